"""Clocks: the system clock is aware UTC; the manual clock moves only when told to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from lvyue.common.clock import Clock, ManualClock, SystemClock

T0 = datetime(2024, 6, 18, 14, 0, tzinfo=UTC)
SHANGHAI = timezone(timedelta(hours=8))


def test_system_clock_returns_aware_utc_now() -> None:
    before = datetime.now(UTC)
    now = SystemClock().now()
    assert now.tzinfo is UTC
    assert before <= now <= datetime.now(UTC)


def test_both_clocks_satisfy_the_clock_protocol() -> None:
    clocks: list[Clock] = [SystemClock(), ManualClock(T0)]
    assert all(isinstance(c.now(), datetime) for c in clocks)


def test_manual_clock_refuses_a_naive_start() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ManualClock(datetime(2024, 6, 18, 14, 0))


def test_manual_clock_refuses_to_be_set_to_a_naive_time() -> None:
    clock = ManualClock(T0)
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.set(datetime(2024, 6, 19, 9, 0))
    assert clock.now() == T0


def test_manual_clock_stands_still_until_moved() -> None:
    clock = ManualClock(T0)
    assert clock.now() == T0
    assert clock.now() == T0


def test_manual_clock_keeps_time_in_utc() -> None:
    clock = ManualClock(datetime(2024, 6, 18, 22, 0, tzinfo=SHANGHAI))
    assert clock.now() == T0
    assert clock.now().tzinfo is UTC


@pytest.mark.parametrize(
    "steps",
    [
        [timedelta(minutes=5)],
        [timedelta(hours=2), timedelta(seconds=1)],
        [timedelta(days=1), timedelta(hours=-3)],
        [timedelta(0)],
    ],
)
def test_manual_clock_advances_by_each_delta(steps: list[timedelta]) -> None:
    clock = ManualClock(T0)
    for step in steps:
        clock.advance(step)
    assert clock.now() == T0 + sum(steps, timedelta(0))


def test_manual_clock_can_be_set_forwards_and_backwards_in_utc() -> None:
    clock = ManualClock(T0)
    clock.set(datetime(2024, 6, 19, 9, 0, tzinfo=SHANGHAI))
    assert clock.now() == datetime(2024, 6, 19, 1, 0, tzinfo=UTC)
    assert clock.now().tzinfo is UTC
    clock.set(T0 - timedelta(days=1))
    assert clock.now() == T0 - timedelta(days=1)
