"""Request bodies bounded in size and time before a route reads them, in the app every service
is built with (create_app); no database or broker is needed to read a body."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from lvyue.common.app import create_app
from lvyue.common.settings import Environment, KernelSettings

LIMIT = 4096
TIMEOUT_S = 0.5


class Note(BaseModel):
    text: str


def _app() -> FastAPI:
    settings = KernelSettings(env=Environment.TEST, max_body_bytes=LIMIT, body_timeout_s=TIMEOUT_S)
    app = create_app(settings, title="t", routers=[])

    @app.post("/notes")
    async def post_note(note: Note) -> dict[str, int]:
        return {"length": len(note.text)}

    @app.post("/notes/slow-answer")
    async def slow_answer(note: Note) -> StreamingResponse:
        async def parts() -> AsyncIterator[bytes]:
            for _ in range(3):  # longer than the body's time in all: the answer is not cut
                await asyncio.sleep(TIMEOUT_S / 2)
                yield note.text.encode()

        return StreamingResponse(parts())

    return app


async def _chunks(parts: list[bytes], pause_s: float) -> AsyncIterator[bytes]:
    for part in parts:
        yield part
        await asyncio.sleep(pause_s)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        yield http


JSON = {"Content-Type": "application/json"}


async def test_a_body_within_the_limits_reaches_the_route_whole(
    client: httpx.AsyncClient,
) -> None:
    parts = [b'{"text": "', b"x" * 1000, b"x" * 1000, b'"}']
    answer = await client.post("/notes", content=_chunks(parts, 0.01), headers=JSON)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"length": 2000}


@pytest.mark.parametrize("declared", [True, False], ids=["length-declared", "streamed"])
async def test_a_body_over_the_limit_is_a_413_naming_it(
    client: httpx.AsyncClient, declared: bool
) -> None:
    body = b'{"text": "' + b"x" * LIMIT + b'"}'
    content = (
        body if declared else _chunks([body[i : i + 1024] for i in range(0, len(body), 1024)], 0)
    )
    answer = await client.post("/notes", content=content, headers=JSON)
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"] == f"request body over {LIMIT} bytes (LVYUE_MAX_BODY_BYTES)"


async def test_a_body_trickled_past_the_time_allowed_is_a_408_and_let_go(
    client: httpx.AsyncClient,
) -> None:
    started = time.monotonic()
    trickle = _chunks([b'{"text": "', *[b"x"] * 100, b'"}'], 0.1)  # 10 s, were it read to the end
    answer = await client.post("/notes", content=trickle, headers=JSON)
    elapsed = time.monotonic() - started
    assert answer.status_code == 408
    assert answer.json()["type"] == "urn:lvyue:problem:request-timeout"
    assert (
        answer.json()["detail"] == "request body not received within 0.5 s (LVYUE_BODY_TIMEOUT_S)"
    )
    assert elapsed < TIMEOUT_S + 1.0


async def test_the_time_allowed_is_the_body_s_not_the_answer_s(client: httpx.AsyncClient) -> None:
    answer = await client.post("/notes/slow-answer", json={"text": "ok"})
    assert answer.status_code == 200
    assert answer.text == "okokok"
