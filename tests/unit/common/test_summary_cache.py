"""SummaryCache: the SLA board's answers reused while young, one read shared by the requests
that wait for it, nothing kept that failed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from lvyue.common.deadlines.summary import Summary, SummaryCache

T0 = datetime(2026, 12, 6, 8, tzinfo=UTC)


class Reads:
    """A read the test releases, counting how often it ran; each answer is numbered."""

    def __init__(self) -> None:
        self.count = 0
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self) -> Summary:
        self.count += 1
        number = self.count
        await self.release.wait()
        return Summary(T0.replace(minute=number), [])


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_an_answer_is_reused_while_younger_than_the_max_age_then_read_again() -> None:
    clock, reads = Clock(), Reads()
    cache = SummaryCache(5.0, monotonic=clock)
    first = await cache.get(24, reads)
    clock.now += 4.9
    assert await cache.get(24, reads) is first
    clock.now += 0.1
    again = await cache.get(24, reads)
    assert (reads.count, again.computed_at) == (2, T0.replace(minute=2))


async def test_each_number_of_hours_is_its_own_answer() -> None:
    reads = Reads()
    cache = SummaryCache(5.0, monotonic=Clock())
    day, week = await cache.get(24, reads), await cache.get(168, reads)
    assert (day.computed_at.minute, week.computed_at.minute) == (1, 2)
    assert await cache.get(24, reads) is day


async def test_a_max_age_of_zero_reads_every_time() -> None:
    reads = Reads()
    cache = SummaryCache(0.0, monotonic=Clock())
    for _ in range(3):
        await cache.get(24, reads)
    assert reads.count == 3


async def test_requests_waiting_for_a_read_share_it_and_one_going_away_cancels_nothing() -> None:
    reads = Reads()
    reads.release.clear()
    cache = SummaryCache(5.0, monotonic=Clock())
    leaving = asyncio.create_task(cache.get(24, reads))
    staying = [asyncio.create_task(cache.get(24, reads)) for _ in range(3)]
    await asyncio.sleep(0)
    leaving.cancel()
    await asyncio.sleep(0)
    reads.release.set()
    answers = await asyncio.gather(*staying)
    assert reads.count == 1
    assert all(answer is answers[0] for answer in answers)
    assert leaving.cancelled()


async def test_a_failed_read_is_not_kept() -> None:
    calls = 0

    async def failing() -> Summary:
        nonlocal calls
        calls += 1
        raise ConnectionError("database gone")

    reads = Reads()
    cache = SummaryCache(5.0, monotonic=Clock())
    with pytest.raises(ConnectionError):
        await cache.get(24, failing)
    assert (await cache.get(24, reads)).computed_at == T0.replace(minute=1)
    assert (calls, reads.count) == (1, 1)


async def test_an_answer_is_as_old_as_the_moment_its_read_began() -> None:
    clock, reads = Clock(), Reads()
    reads.release.clear()
    cache = SummaryCache(5.0, monotonic=clock)
    waiting = asyncio.create_task(cache.get(24, reads))
    await asyncio.sleep(0)
    clock.now += 3.0  # the read took 3 s
    reads.release.set()
    first = await waiting
    clock.now += 2.0  # 5 s after the read began, 2 s after it ended
    assert (await cache.get(24, reads)) is not first
    assert reads.count == 2
