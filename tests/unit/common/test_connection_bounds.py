"""Client connections bounded before a request reaches the app: the time a request's head may
take and how many connections one process holds. A real uvicorn server on loopback with the
protocol every service is served with (`lvyue.common.app.server_config`), spoken to over raw
sockets, as a slow or hostile client would."""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import orjson
import pytest
import uvicorn
from fastapi import FastAPI
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from lvyue.common.app import server_config
from lvyue.common.connections import BoundedH11Protocol, bounded_protocol
from lvyue.common.settings import Environment, KernelSettings

HEAD_TIMEOUT_S = 0.4
MAX_CONNECTIONS = 3
SLACK_S = 2.0  # a loaded machine's scheduling; every wait below is bounded by it
GET_OK = b"GET /ok HTTP/1.1\r\nhost: t\r\n\r\n"


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/ok")
    async def ok() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/slow")
    async def slow() -> dict[str, bool]:
        await asyncio.sleep(HEAD_TIMEOUT_S * 2)  # longer than a head may take: not cut
        return {"ok": True}

    return app


@dataclass
class Served:
    port: int


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    config = uvicorn.Config(
        _app(),
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_keep_alive=30,  # out of the way: the head's bound is what is tested
        http=bounded_protocol(HEAD_TIMEOUT_S, MAX_CONNECTIONS),
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.01)
    assert server.started
    yield Served(sock.getsockname()[1])
    server.should_exit = True
    await asyncio.wait_for(task, 10)


async def _connect(served: Served) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", served.port)


async def _read_until_closed(reader: asyncio.StreamReader) -> bytes:
    return await asyncio.wait_for(reader.read(), HEAD_TIMEOUT_S + SLACK_S)


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One response's status and body (content-length framed)."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), SLACK_S)
    lines = head.decode().split("\r\n")
    length = next(int(ln.split(":")[1]) for ln in lines if ln.lower().startswith("content-length"))
    body = await asyncio.wait_for(reader.readexactly(length), SLACK_S)
    return int(lines[0].split()[1]), body


async def _trickle(writer: asyncio.StreamWriter) -> None:
    """A header name that never ends, a byte every 50 ms, as slowloris sends (bounded)."""
    for _ in range(int((HEAD_TIMEOUT_S + SLACK_S) / 0.05)):
        writer.write(b"x")
        try:
            await writer.drain()
        except ConnectionError:
            return
        await asyncio.sleep(0.05)


def _refused(reason: str) -> float:
    value = REGISTRY.get_sample_value("lvyue_http_connections_refused_total", {"reason": reason})
    assert value is not None
    return value


async def test_a_connection_that_sends_nothing_is_closed_after_the_head_timeout(
    served: Served,
) -> None:
    before = _refused("head_timeout")
    reader, writer = await _connect(served)
    started = time.monotonic()
    assert await _read_until_closed(reader) == b""  # closed, nothing said: nothing was asked
    assert time.monotonic() - started >= HEAD_TIMEOUT_S * 0.9
    assert _refused("head_timeout") == before + 1
    writer.close()


async def test_a_head_trickled_a_byte_at_a_time_gets_408_naming_the_setting(
    served: Served,
) -> None:
    reader, writer = await _connect(served)
    started = time.monotonic()
    writer.write(b"POST /ok HTTP/1.1\r\nhost: t\r\n")
    trickle = asyncio.create_task(_trickle(writer))
    data = await _read_until_closed(reader)
    elapsed = time.monotonic() - started
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 Request Timeout")
    assert b"content-type: application/problem+json" in head
    assert b"connection: close" in head
    problem = orjson.loads(body)
    assert problem["status"] == 408
    assert problem["type"] == "urn:lvyue:problem:request-timeout"
    assert problem["detail"] == (
        f"request head not received within {HEAD_TIMEOUT_S:g} s (LVYUE_HEADER_TIMEOUT_S)"
    )
    assert HEAD_TIMEOUT_S * 0.9 <= elapsed < HEAD_TIMEOUT_S + SLACK_S
    trickle.cancel()
    writer.close()


async def test_a_request_whose_answer_takes_longer_than_the_head_timeout_is_answered(
    served: Served,
) -> None:
    reader, writer = await _connect(served)
    writer.write(b"GET /slow HTTP/1.1\r\nhost: t\r\n\r\n")
    status, body = await _answer(reader)
    assert (status, orjson.loads(body)) == (200, {"ok": True})
    writer.close()


async def test_a_kept_alive_connection_gets_the_head_timeout_again_for_each_request(
    served: Served,
) -> None:
    reader, writer = await _connect(served)
    writer.write(GET_OK)
    assert (await _answer(reader))[0] == 200
    await asyncio.sleep(HEAD_TIMEOUT_S * 1.5)  # idle between requests: keep-alive's, not ours
    writer.write(GET_OK)
    assert (await _answer(reader))[0] == 200  # its head came at once: answered
    writer.write(b"GET /ok HTTP/1.1\r\n")  # the third head never ends
    data = await _read_until_closed(reader)
    assert data.startswith(b"HTTP/1.1 408 ")
    writer.close()


async def test_a_connection_over_the_limit_gets_503_and_the_others_are_served(
    served: Served,
) -> None:
    before = _refused("too_many")
    held = [await _connect(served) for _ in range(MAX_CONNECTIONS)]
    reader, writer = await _connect(served)
    data = await _read_until_closed(reader)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 Service Unavailable")
    assert b"retry-after: 1" in head
    assert orjson.loads(body)["detail"] == (
        f"over {MAX_CONNECTIONS} open connections (LVYUE_MAX_CONNECTIONS): try again shortly"
    )
    assert _refused("too_many") == before + 1
    writer.close()
    for held_reader, held_writer in held:  # the connections already held are served
        held_writer.write(GET_OK)
        assert (await _answer(held_reader))[0] == 200
        held_writer.close()


@pytest.mark.parametrize(
    ("head", "status", "detail"),
    [
        # h11 bounds what it holds of a head not yet complete: 20 kB of a header still coming
        (b"GET /ok HTTP/1.1\r\nhost: t\r\nx-big: " + b"a" * 20_000, 431,
         r"request head over 16384 bytes"),
        # and a whole head over it in one write, which h11 alone parses whatever its size
        (b"GET /ok HTTP/1.1\r\nhost: t\r\nx-big: " + b"a" * 20_000 + b"\r\n\r\n", 431,
         r"request head over 16384 bytes"),
        (b"GET /ok HTTP/1.1\r\nhost: t\r\n" + b"x:y\r\n" * 5_000 + b"\r\n", 431,
         r"request head over 16384 bytes"),
        (b"NOT HTTP\r\n\r\n", 400, r"malformed HTTP request: .+"),
        (b"GET /ok HTTP/1.1\r\nhost: t\r\nbad header\r\n\r\n", 400,
         r"malformed HTTP request: .+"),
    ],
    ids=[
        "head over 16 KiB still coming",
        "whole head over 16 KiB in one write",
        "5,000 short headers",
        "not a request line",
        "a header without a colon",
    ],
)  # fmt: skip
async def test_a_head_h11_cannot_read_is_answered_as_a_problem(
    served: Served, head: bytes, status: int, detail: str, caplog: pytest.LogCaptureFixture
) -> None:
    before = _refused("malformed")
    reader, writer = await _connect(served)
    with capture_logs() as logs:
        writer.write(head)
        data = await _read_until_closed(reader)
    # logged once, with why and from whom, not as uvicorn's "Invalid HTTP request received."
    [logged] = [entry for entry in logs if entry["event"] == "http_request_malformed"]
    assert logged["status"] == status
    assert re.fullmatch(detail, logged["detail"]), logged
    assert logged["client"].startswith("127.0.0.1:"), logged
    assert "Invalid HTTP request received." not in caplog.messages
    answer, _, body = data.partition(b"\r\n\r\n")
    assert answer.startswith(f"HTTP/1.1 {status} ".encode()), data[:200]
    assert b"content-type: application/problem+json" in answer
    problem = orjson.loads(body)
    assert problem["status"] == status
    assert re.fullmatch(detail, problem["detail"]), problem  # the limit, or h11's reason
    assert _refused("malformed") == before + 1
    writer.close()


async def test_a_whole_head_just_within_the_limit_is_served(served: Served) -> None:
    reader, writer = await _connect(served)
    head = b"GET /ok HTTP/1.1\r\nhost: t\r\nx-big: "
    writer.write(head + b"a" * (16_384 - len(head) - 4) + b"\r\n\r\n")  # 16,384 bytes
    assert (await _answer(reader))[0] == 200
    writer.close()


def test_every_service_is_served_with_the_bounds_of_its_settings() -> None:
    settings = KernelSettings(env=Environment.TEST, header_timeout_s=7.5, max_connections=42)
    config = server_config(FastAPI(), settings)
    protocol = config.http
    assert isinstance(protocol, type)
    assert issubclass(protocol, BoundedH11Protocol)
    assert (protocol.head_timeout_s, protocol.max_connections) == (7.5, 42)
