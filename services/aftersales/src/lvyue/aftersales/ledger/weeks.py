"""ISO weeks in the business timezone: "2026-W47" runs Monday 00:00 to the next Monday 00:00."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_ONE_WEEK = timedelta(days=7)


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """Raises ValueError unless text is an existing ISO week such as 2026-W47."""
        match = _WEEK.match(text.strip())
        if match is None:
            raise ValueError(f"week {text!r} is not an ISO week such as 2026-W47")
        year, week = int(match[1]), int(match[2])
        try:
            monday = date.fromisocalendar(year, week, 1)
        except ValueError:
            raise ValueError(f"{year} has no ISO week {week}") from None
        # The ledger reads the week before and ends at the next Monday: both must be dates too.
        if not date.min + _ONE_WEEK <= monday <= date.max - _ONE_WEEK:
            raise ValueError(f"week {text!r} is outside the calendar")
        return cls(year, week)

    @classmethod
    def containing(cls, moment: datetime, tz: ZoneInfo) -> IsoWeek:
        year, week, _ = moment.astimezone(tz).isocalendar()
        return cls(year, week)

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    def previous(self) -> IsoWeek:
        year, week, _ = (self.monday - timedelta(days=7)).isocalendar()
        return IsoWeek(year, week)

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) in UTC: local midnight of its Monday to local midnight a week later."""
        start = datetime.combine(self.monday, time(0), tzinfo=tz)
        end = datetime.combine(self.monday + timedelta(days=7), time(0), tzinfo=tz)
        return start.astimezone(UTC), end.astimezone(UTC)


def due_week(now: datetime, tz: ZoneInfo, *, weekday: int, at: time) -> IsoWeek | None:
    """The week whose ledger is due: the previous week, once this week's publish time passed."""
    current = IsoWeek.containing(now, tz)
    scheduled = datetime.combine(current.monday + timedelta(days=weekday), at, tzinfo=tz)
    return current.previous() if now >= scheduled else None
