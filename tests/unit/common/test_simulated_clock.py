"""A drill's simulated clock: the same reading in every process given the same settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from lvyue.common.clock import ManualClock, SimulatedClock, SystemClock
from lvyue.common.settings import Environment, KernelSettings

CST = timezone(timedelta(hours=8))
START = datetime(2026, 11, 11, 0, 0, tzinfo=CST)
ANCHOR = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)


def test_it_reads_start_at_the_anchor_and_runs_speed_times_as_fast() -> None:
    real = ManualClock(ANCHOR)
    clock = SimulatedClock(START, anchor=ANCHOR, speed=60, real=real)
    assert clock.now() == START
    real.advance(timedelta(minutes=24))
    assert clock.now() == START + timedelta(days=1)  # a whole 双11 day in 24 minutes
    real.set(ANCHOR - timedelta(seconds=10))
    assert clock.now() == START - timedelta(minutes=10)  # before the anchor: earlier


def test_it_crosses_midnight_and_a_cutoff_like_real_time_does() -> None:
    real = ManualClock(ANCHOR)
    clock = SimulatedClock(
        datetime(2026, 11, 19, 15, 59, tzinfo=CST), anchor=ANCHOR, speed=600, real=real
    )
    real.advance(timedelta(seconds=1))
    assert clock.now().astimezone(CST).strftime("%H:%M") == "16:09"
    real.advance(timedelta(seconds=48))
    assert clock.now().astimezone(CST).strftime("%Y-%m-%d %H:%M") == "2026-11-20 00:09"


def test_two_processes_with_the_same_settings_agree() -> None:
    real = ManualClock(ANCHOR + timedelta(seconds=7))
    a = SimulatedClock(START, anchor=ANCHOR, speed=120, real=real)
    b = SimulatedClock(START, anchor=ANCHOR, speed=120, real=real)
    assert a.now() == b.now() == START + timedelta(seconds=840)


def _settings(**values: Any) -> KernelSettings:
    return KernelSettings.model_validate({"env": Environment.DEV, **values})


def test_settings_build_the_simulated_clock_or_the_system_one() -> None:
    simulated = _settings(clock_start=START, clock_anchor=ANCHOR, clock_speed=60).clock()
    assert isinstance(simulated, SimulatedClock)
    assert (simulated.start, simulated.anchor, simulated.speed) == (START, ANCHOR, 60)
    assert isinstance(_settings().clock(), SystemClock)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"clock_start": START}, "LVYUE_CLOCK_ANCHOR"),
        ({"clock_start": datetime(2026, 11, 11), "clock_anchor": ANCHOR}, "UTC offset"),
        ({"clock_speed": 60}, "need LVYUE_CLOCK_START"),
        ({"clock_start": START, "clock_anchor": ANCHOR, "clock_speed": 0}, "greater than 0"),
        ({"env": Environment.PRODUCTION, "clock_start": START, "clock_anchor": ANCHOR},
         "refused in production"),
    ],
)  # fmt: skip
def test_a_simulated_clock_is_refused_when_incomplete_or_in_production(
    values: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        _settings(**values)


def test_production_allows_it_only_when_told() -> None:
    settings = _settings(env=Environment.PRODUCTION, clock_start=START, clock_anchor=ANCHOR,
                         simulated_clock_in_production=True)  # fmt: skip
    assert isinstance(settings.clock(), SimulatedClock)
