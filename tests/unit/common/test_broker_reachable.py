"""broker_reachable is bounded by its timeout even when the client swallows cancellation, as
aiokafka's metadata fetch can while it reconnects to a broker that is gone (a service's stop
hung on it)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from types import SimpleNamespace
from typing import Any

from lvyue.common.kafka import broker_reachable


def _producer(fetch: Any) -> Any:
    return SimpleNamespace(client=SimpleNamespace(fetch_all_metadata=fetch))


async def test_a_fetch_that_swallows_cancellation_does_not_hold_the_check() -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0.05)

    started = time.monotonic()
    assert await broker_reachable(_producer(stubborn), timeout_s=0.2) is False
    assert time.monotonic() - started < 1.0
    release.set()  # let the left-behind fetch end, so the test leaves no task running
    await asyncio.sleep(0.1)


async def test_a_fetch_that_answers_or_fails_says_so() -> None:
    async def answers() -> None:
        return None

    async def fails() -> None:
        raise ConnectionError("gone")

    assert await broker_reachable(_producer(answers), timeout_s=1.0) is True
    assert await broker_reachable(_producer(fails), timeout_s=1.0) is False
