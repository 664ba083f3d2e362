"""How values read on a page: times in the shop's or warehouse's zone, time left, and personal
data masked until an operator asks to see it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def parse_time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def display_time(value: object, zone: ZoneInfo) -> str:
    """`12-05 16:00` in zone; the year only when it is not this year's."""
    moment = parse_time(value)
    if moment is None:
        return "—"
    local = moment.astimezone(zone)
    if local.year != datetime.now(zone).year:
        return local.strftime("%Y-%m-%d %H:%M")
    return local.strftime("%m-%d %H:%M")


def clock_time(moment: datetime, zone: ZoneInfo) -> str:
    """`16:00:05` in zone: when figures were read, to the second."""
    return moment.astimezone(zone).strftime("%H:%M:%S")


def time_left(value: object, now: datetime | None = None) -> int | None:
    """Whole seconds until value (negative once past), for the countdown; None without one."""
    moment = parse_time(value)
    if moment is None:
        return None
    return int((moment - (now or datetime.now(UTC))).total_seconds())


def countdown(seconds: int | None) -> str:
    """`1h 05m`, `4m 10s`, `-12m` (overdue): what the page shows before its script ticks."""
    if seconds is None:
        return "—"
    sign = "-" if seconds < 0 else ""
    rest = abs(seconds)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    if minutes:
        return f"{sign}{minutes}m {secs:02d}s"
    return f"{sign}{secs}s"


def masked(value: object, kind: str) -> str:
    """A name keeps its first character, a phone its first three and last four digits, an
    address its region; everything else is hidden."""
    text = "" if value is None else str(value)
    if not text:
        return ""
    if kind == "name":
        return text[0] + "*" * max(1, len(text) - 1)
    if kind == "phone":
        digits = [c for c in text if c.isdigit()]
        if len(digits) < 8:
            return "*" * len(text)
        return "".join(digits[:3]) + "****" + "".join(digits[-4:])
    return "***"
