"""The console bench's seeding: a webhook is sent again when its connection drops."""

from __future__ import annotations

import httpx
import pytest

from lvyue.cli.bench.console import _post_webhook

BODY = b'{"order": 1}'
HEADERS = {"X-Lvyue-Signature": "sig"}


def _client(answers: list[int | Exception], seen: list[bytes]) -> httpx.AsyncClient:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer)

    return httpx.AsyncClient(transport=httpx.MockTransport(handle), base_url="http://intake")


async def test_a_dropped_connection_sends_the_same_webhook_again() -> None:
    seen: list[bytes] = []
    async with _client([httpx.ReadError("reset"), 200], seen) as client:
        response = await _post_webhook(client, BODY, HEADERS)
    assert response.status_code == 200  # the intake had it already: a repeated delivery
    assert seen == [BODY, BODY]


async def test_an_answer_is_not_retried_whatever_its_status() -> None:
    seen: list[bytes] = []
    async with _client([401, 201], seen) as client:
        response = await _post_webhook(client, BODY, HEADERS)
    assert response.status_code == 401
    assert seen == [BODY]


async def test_it_gives_up_after_four_attempts() -> None:
    seen: list[bytes] = []
    drops: list[int | Exception] = [httpx.ReadError("reset") for _ in range(5)]
    async with _client(drops, seen) as client:
        with pytest.raises(httpx.ReadError):
            await _post_webhook(client, BODY, HEADERS)
    assert len(seen) == 4
