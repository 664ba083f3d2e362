"""Time as a dependency: every deadline computation asks a Clock, so tests move time and a
drill runs the whole system on a shared simulated clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to: for tests and simulations."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("ManualClock needs timezone-aware times")
        self._now = moment.astimezone(UTC)


class SimulatedClock:
    """Simulated time for a drill: it reads `start` at the real instant `anchor` and runs
    `speed` times as fast as real time (before `anchor`, it reads earlier than `start`).

    Every process given the same three values reads the same time, so deadlines, scanners,
    jobs and `received_at` agree across services (`lvyue run --clock-start/--clock-speed`).
    """

    def __init__(
        self,
        start: datetime,
        *,
        anchor: datetime,
        speed: float = 1.0,
        real: Clock | None = None,
    ) -> None:
        if start.tzinfo is None or anchor.tzinfo is None:
            raise ValueError("SimulatedClock needs timezone-aware start and anchor times")
        if not speed > 0:
            raise ValueError(f"clock speed must be positive, got {speed}")
        self.start = start.astimezone(UTC)
        self.anchor = anchor.astimezone(UTC)
        self.speed = speed
        self._real = real or SystemClock()

    def now(self) -> datetime:
        return self.start + (self._real.now() - self.anchor) * self.speed
