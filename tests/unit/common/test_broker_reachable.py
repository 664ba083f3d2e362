"""broker_reachable and the eviction of a consumer's previous members are bounded by their
timeout even when the client swallows cancellation, as aiokafka's requests can while they
reconnect to a broker that is gone (a service's stop hung on it)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.client import AIOKafkaClient

from lvyue.common.kafka import broker_reachable, evict_previous_members


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


async def test_an_eviction_whose_client_swallows_cancellation_gives_up_in_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    release = asyncio.Event()

    async def stubborn(self: Any) -> None:
        while not release.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0.05)

    monkeypatch.setattr(AIOKafkaClient, "bootstrap", stubborn)  # the class kafka.py uses
    started = time.monotonic()
    evicted = await evict_previous_members("127.0.0.1:9", "group", "consumer-1", timeout_s=0.2)
    assert evicted == []  # an optimisation given up: the join just takes longer
    assert time.monotonic() - started < 1.0
    release.set()
    await asyncio.sleep(0.1)
