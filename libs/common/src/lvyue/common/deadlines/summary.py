"""The SLA board: per SLA of a service, what is open and at risk now, how the compliance window
went, what the breach forecast expects, and the met and breached of each recent hour.

It puts together what the scanner's gauges already read (open_counts, outcomes_since,
predicted_breaches, with the same settings), so the board and the metrics agree,
and adds the hourly outcomes (store.hourly_outcomes) the gauges do not keep.

Those reads scan every unclosed deadline and every one decided in the compliance window, so
a process keeps its last answers a few seconds (SummaryCache): the work follows the volume,
not the number of boards open.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from lvyue.common.deadlines import store
from lvyue.common.deadlines.store import OpenCounts, Outcomes

HOUR = timedelta(hours=1)
_NONE_OPEN = OpenCounts(0, 0, 0)
_NONE_DECIDED = Outcomes(0, 0)


@dataclass(frozen=True)
class HourOutcomes:
    """Deadlines of one SLA met and breached in the hour from `start`."""

    start: datetime
    met: int
    breached: int


@dataclass(frozen=True)
class SlaSummary:
    sla: str
    open: int
    at_risk: int
    overdue: int
    met: int  # in the compliance window
    breached: int  # in the compliance window
    compliance: float | None  # met / (met + breached); None: nothing decided
    predicted_breaches: int
    hourly: tuple[HourOutcomes, ...]  # oldest first, one per hour


@dataclass(frozen=True)
class SummaryWindows:
    """The scanner's settings the board reads with, so it counts as the gauges do."""

    at_risk_fraction: float
    compliance: timedelta
    forecast: timedelta


def hour_starts(now: datetime, hours: int) -> list[datetime]:
    """The starts of the last `hours` hours, oldest first, the last the hour holding `now`.
    Hours of UTC, so on the hour in any zone a whole number of hours from it (CST too)."""
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return [current - HOUR * back for back in range(hours - 1, -1, -1)]


async def read_summary(
    session: AsyncSession, *, now: datetime, windows: SummaryWindows, hours: int
) -> list[SlaSummary]:
    """One summary per SLA with anything to show, by SLA name."""
    starts = hour_starts(now, hours)
    counts = await store.open_counts(session, now=now, at_risk_fraction=windows.at_risk_fraction)
    outcomes = await store.outcomes_since(session, since=now - windows.compliance)
    late = await store.predicted_breaches(session, now=now, window=windows.forecast)
    hourly = await store.hourly_outcomes(session, first=starts[0], hours=hours)
    predicted = {sla: breaches.count for sla, breaches in late.items()}
    return summarise(counts, outcomes, predicted, hourly, starts)


def summarise(
    counts: Mapping[str, OpenCounts],
    outcomes: Mapping[str, Outcomes],
    predicted: Mapping[str, int],
    hourly: Mapping[tuple[str, datetime], Outcomes],
    starts: Sequence[datetime],
) -> list[SlaSummary]:
    """Every SLA any of the reads names, once, zeros where a read has nothing of it."""
    slas = {*counts, *outcomes, *predicted, *(sla for sla, _ in hourly)}
    return [_summary(sla, counts, outcomes, predicted, hourly, starts) for sla in sorted(slas)]


def _summary(
    sla: str,
    counts: Mapping[str, OpenCounts],
    outcomes: Mapping[str, Outcomes],
    predicted: Mapping[str, int],
    hourly: Mapping[tuple[str, datetime], Outcomes],
    starts: Sequence[datetime],
) -> SlaSummary:
    now_open = counts.get(sla, _NONE_OPEN)
    decided = outcomes.get(sla, _NONE_DECIDED)
    return SlaSummary(
        sla=sla,
        open=now_open.open,
        at_risk=now_open.at_risk,
        overdue=now_open.overdue,
        met=decided.met,
        breached=decided.breached,
        compliance=decided.compliance,
        predicted_breaches=predicted.get(sla, 0),
        hourly=tuple(_hour(start, hourly.get((sla, start), _NONE_DECIDED)) for start in starts),
    )


def _hour(start: datetime, decided: Outcomes) -> HourOutcomes:
    return HourOutcomes(start, decided.met, decided.breached)


@dataclass(frozen=True)
class Summary:
    """The board's answer as of `computed_at`."""

    computed_at: datetime
    slas: list[SlaSummary]


class SummaryCache:
    """The last summary per number of hours, reused while younger than `max_age_s` (0: never).
    An older one is read again; requests arriving meanwhile wait for that one read instead of
    starting their own, and a requester that goes away does not cancel it for the others."""

    def __init__(self, max_age_s: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._max_age_s = max_age_s
        self._monotonic = monotonic
        self._answers: dict[int, tuple[float, Summary]] = {}
        self._reading: dict[int, asyncio.Future[Summary]] = {}

    async def get(self, hours: int, read: Callable[[], Awaitable[Summary]]) -> Summary:
        now = self._monotonic()
        kept = self._answers.get(hours)
        if kept is not None and now - kept[0] < self._max_age_s:
            return kept[1]
        reading = self._reading.get(hours)
        if reading is None:  # its age counts from now, before the read began
            reading = asyncio.ensure_future(self._read(hours, read, started=now))
            self._reading[hours] = reading
        return await asyncio.shield(reading)

    async def _read(
        self, hours: int, read: Callable[[], Awaitable[Summary]], *, started: float
    ) -> Summary:
        try:
            answer = await read()
        finally:
            del self._reading[hours]
        if self._max_age_s > 0:
            self._answers[hours] = (started, answer)
        return answer
