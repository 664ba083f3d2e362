"""Due-time policies: from the moment an SLA clock starts to the moment it is due.

Pure computation (no I/O). Every policy takes a timezone-aware start and returns a
timezone-aware UTC due time. Local wall-clock rules (cut-offs, "next day at 09:00")
are evaluated in the shop's timezone via zoneinfo, so DST is handled by the tz data.
Policies can be written as short strings in configuration, see ``policy_from_config``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from lvyue.common.deadlines.calendar import WorkingCalendar, next_working_day

__all__ = [
    "DailyCutoff",
    "DuePolicy",
    "Duration",
    "NextDayAt",
    "parse_duration",
    "policy_from_config",
]


class DuePolicy(Protocol):
    """Computes when something started at ``start`` is due."""

    def due_at(self, start: datetime) -> datetime:
        """The due time (UTC, aware) for a timezone-aware ``start``."""
        ...


def _require_aware(start: datetime) -> None:
    """Reject naive datetimes: their meaning depends on the machine's timezone."""
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError(f"start must be timezone-aware, got naive datetime {start.isoformat()}")


def _require_wall_time(at: time, what: str) -> None:
    """A local wall-clock time must not carry its own tzinfo; the policy's tz applies."""
    if at.tzinfo is not None:
        raise ValueError(f"{what} must be a naive wall-clock time, got {at.isoformat()}")


def _local_to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    """Wall-clock ``day`` ``at`` in ``tz`` as UTC.

    In a DST gap the non-existent time maps forward (fold=0 uses the pre-transition
    offset); in a DST overlap the first occurrence is used.
    """
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Duration:
    """Due a fixed elapsed time after start (e.g. 2 h, 24 h, 48 h, 5 min)."""

    delta: timedelta

    def __post_init__(self) -> None:
        if self.delta <= timedelta(0):
            raise ValueError(f"duration must be positive, got {self.delta}")

    def due_at(self, start: datetime) -> datetime:
        """``start`` plus ``delta`` of real elapsed time, in UTC."""
        _require_aware(start)
        # Add in UTC: aware arithmetic in a zoneinfo tz is wall-clock and would be off by
        # an hour across a DST change.
        return start.astimezone(UTC) + self.delta


@dataclass(frozen=True, slots=True)
class DailyCutoff:
    """Due at today's cut-off if started before it on a working day, else the next one's."""

    cutoff: time
    tz: ZoneInfo
    calendar: WorkingCalendar

    def __post_init__(self) -> None:
        _require_wall_time(self.cutoff, "cutoff")

    def due_at(self, start: datetime) -> datetime:
        """Cut-off of the start's local day if strictly before it, else the next working day's."""
        _require_aware(start)
        local = start.astimezone(self.tz)
        day = local.date()
        # Exactly at the cut-off counts as too late: "before 16:00" means < 16:00:00.
        if self.calendar.is_working_day(day) and local.time() < self.cutoff:
            return _local_to_utc(day, self.cutoff, self.tz)
        return _local_to_utc(next_working_day(self.calendar, day), self.cutoff, self.tz)


@dataclass(frozen=True, slots=True)
class NextDayAt:
    """Due at a wall-clock time on the day after the start's local day (or next working day)."""

    at: time
    tz: ZoneInfo
    calendar: WorkingCalendar | None = None

    def __post_init__(self) -> None:
        _require_wall_time(self.at, "at")

    def due_at(self, start: datetime) -> datetime:
        """``at`` on local day D+1, or on the first working day after D with a calendar."""
        _require_aware(start)
        day = start.astimezone(self.tz).date()
        if self.calendar is None:
            due_day = day + timedelta(days=1)
        else:
            due_day = next_working_day(self.calendar, day)
        return _local_to_utc(due_day, self.at, self.tz)


_DURATION_RE = re.compile(r"(?:\d+[dhms])+")
_DURATION_PART_RE = re.compile(r"(\d+)([dhms])")
_DURATION_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")

_SPEC_FORMS = (
    "duration:<N>d|h|m|s (e.g. duration:2h, duration:1h30m), cutoff:HH:MM, "
    "next_day_at:HH:MM, next_working_day_at:HH:MM"
)


def parse_duration(text: str) -> timedelta:
    """Parse ``2h``, ``48h``, ``5m``, ``30s``, ``1d`` or combinations like ``1h30m``."""
    if not _DURATION_RE.fullmatch(text):
        raise ValueError(f"bad duration {text!r}: expected e.g. 2h, 5m, 1h30m")
    total = timedelta(0)
    for amount, unit in _DURATION_PART_RE.findall(text):
        total += timedelta(**{_DURATION_UNITS[unit]: int(amount)})
    return total


def _parse_time(text: str) -> time:
    """Parse ``HH:MM`` or ``HH:MM:SS`` as a naive wall-clock time."""
    match = _TIME_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"bad time {text!r}: expected HH:MM or HH:MM:SS")
    hour, minute, second = match.groups()
    try:
        return time(int(hour), int(minute), int(second or 0))
    except ValueError as exc:
        raise ValueError(f"bad time {text!r}: {exc}") from None


def policy_from_config(
    spec: str, tz: ZoneInfo, calendar: WorkingCalendar | None = None
) -> DuePolicy:
    """Build a policy from a config string such as ``duration:2h`` or ``cutoff:16:00``."""
    kind, sep, arg = spec.strip().partition(":")
    if not sep or not arg:
        raise ValueError(f"invalid due policy spec {spec!r}: expected one of {_SPEC_FORMS}")
    try:
        if kind == "duration":
            delta = parse_duration(arg)
            if delta <= timedelta(0):
                raise ValueError("duration must be positive")
            return Duration(delta)
        if kind in ("cutoff", "next_working_day_at"):
            if calendar is None:
                raise ValueError(f"{kind} needs a working-day calendar")
            at = _parse_time(arg)
            if kind == "cutoff":
                return DailyCutoff(at, tz, calendar)
            return NextDayAt(at, tz, calendar)
        if kind == "next_day_at":
            return NextDayAt(_parse_time(arg), tz)
    except ValueError as exc:
        raise ValueError(f"invalid due policy spec {spec!r}: {exc}") from None
    raise ValueError(
        f"invalid due policy spec {spec!r}: unknown kind {kind!r}; expected one of {_SPEC_FORMS}"
    )
