"""Working-day calendars: which days count for cut-offs and "next working day" deadlines.

Pure computation (no I/O). Mainland China's statutory calendar (holidays and 调休 working
weekends) comes from the ``chinese_calendar`` package, which only knows the years it ships
data for; outside them we fall back to a configured calendar (weekends + holidays from
settings), log it once per year and count it in a metric, and never raise. Any other
country's (and region's) public holidays come from the ``holidays`` package. Configured
days off and extra working days override either, in every year.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol

import chinese_calendar
import holidays
import structlog
from prometheus_client import Counter, Gauge

__all__ = [
    "DEFAULT_MAX_SEARCH_DAYS",
    "FALLBACK_TOTAL",
    "HORIZON_SECONDS",
    "ChineseCalendar",
    "ConfiguredCalendar",
    "CountryCalendar",
    "OverriddenCalendar",
    "WorkingCalendar",
    "data_ends",
    "is_working_day",
    "next_working_day",
    "watch_horizon",
]

_log = structlog.get_logger(__name__)

FALLBACK_TOTAL = Counter(
    "lvyue_working_calendar_fallback_total",
    "Working-day look-ups answered by the configured fallback calendar "
    "because the statutory calendar has no data for the year.",
    ["year"],
)

HORIZON_SECONDS = Gauge(
    "lvyue_working_calendar_horizon_seconds",
    "Time from now until the end of the last day a working calendar has holiday data for; past it,"
    " the configured fallback answers (weekends and LVYUE_HOLIDAYS only).",
    ["calendar"],
)

# The longest real run of non-working days is about 9 (Spring Festival); 60 leaves room
# for odd configurations while still catching a calendar that never has a working day.
DEFAULT_MAX_SEARCH_DAYS = 60


class WorkingCalendar(Protocol):
    """Anything that can tell whether a calendar day is a working day."""

    def is_working_day(self, day: date) -> bool:
        """True if ``day`` is a working day."""
        ...


def _as_date(day: date) -> date:
    """Drop the time part: a datetime would never match the date sets."""
    return day.date() if isinstance(day, datetime) else day


@dataclass(frozen=True, slots=True)
class ConfiguredCalendar:
    """Weekends and holidays from configuration; extra working days override weekends."""

    weekend: frozenset[int] = frozenset({5, 6})  # date.weekday(): Monday=0 ... Sunday=6
    holidays: frozenset[date] = frozenset()
    extra_working_days: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        bad = sorted(d for d in self.weekend if not 0 <= d <= 6)
        if bad:
            raise ValueError(f"weekend days must be 0 (Monday) .. 6 (Sunday), got {bad}")
        # A day both off and on is a configuration mistake; refuse rather than guess.
        both = sorted(self.holidays & self.extra_working_days)
        if both:
            raise ValueError(f"days listed both as holiday and as extra working day: {both}")

    def is_working_day(self, day: date) -> bool:
        """True unless ``day`` is a listed holiday or a weekend day not listed as working."""
        day = _as_date(day)
        if day in self.holidays:
            return False
        if day in self.extra_working_days:
            return True
        return day.weekday() not in self.weekend


@functools.lru_cache(maxsize=4096)
def _statutory_working_day(day: date) -> bool | None:
    """chinese_calendar's answer; None for a year it has no data for. Kept per day: the
    package scans its whole holiday table on every call (28 µs, several per due time)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # chinese_calendar's "year not covered"
        return None


class ChineseCalendar:
    """Mainland-China statutory calendar (holidays and 调休 working weekends), with fallback.

    `holidays` and `working_days` are statutory days the package does not know yet, taken from
    the State Council's notice (published each November for the next year): a year with any
    of them is known, its other days follow the weekend, and no fallback is counted for it."""

    name = "CN"

    def __init__(
        self,
        fallback: WorkingCalendar,
        *,
        holidays: frozenset[date] = frozenset(),
        working_days: frozenset[date] = frozenset(),
    ) -> None:
        both = sorted(holidays & working_days)
        if both:
            raise ValueError(f"days listed both as statutory holiday and working day: {both}")
        self._fallback = fallback
        self._holidays = holidays
        self._working_days = working_days
        self._notified_years = frozenset(d.year for d in holidays | working_days)
        self._warned_years: set[int] = set()
        self._lock = threading.Lock()

    @property
    def fallback(self) -> WorkingCalendar:
        """The calendar used for years the statutory data does not cover."""
        return self._fallback

    def is_working_day(self, day: date) -> bool:
        """Statutory answer when known, otherwise the fallback's; never raises for a date."""
        day = _as_date(day)
        if day in self._holidays:
            return False
        if day in self._working_days:
            return True
        statutory = _statutory_working_day(day)
        if statutory is not None:
            return statutory
        if day.year in self._notified_years:  # a plain day of a year configured from the notice
            return self._fallback.is_working_day(day)
        return self._use_fallback(day)

    def _use_fallback(self, day: date) -> bool:
        """Answer from the fallback, counting every use and warning once per year."""
        FALLBACK_TOTAL.labels(year=str(day.year)).inc()
        with self._lock:
            first = day.year not in self._warned_years
            self._warned_years.add(day.year)
        if first:
            _log.warning(
                "working_calendar_fallback",
                year=day.year,
                reason="no statutory calendar data for this year; using configured calendar",
            )
        return self._fallback.is_working_day(day)

    @property
    def data_ends(self) -> date:
        """The last day with statutory data: 31 December of the last year chinese-calendar or
        the configured notice covers."""
        return date(
            max(*(d.year for d in chinese_calendar.holidays), *self._notified_years), 12, 31
        )


class CountryCalendar:
    """A country's (and optionally a region's) public holidays from the ``holidays`` package,
    plus the weekend; no 调休: outside mainland China a weekend day is never a working day."""

    def __init__(
        self,
        country: str,
        subdivision: str | None = None,
        *,
        weekend: frozenset[int] = frozenset({5, 6}),
    ) -> None:
        self.name = f"{country}-{subdivision}" if subdivision else country
        # Raises NotImplementedError for an unknown country or subdivision: settings check first.
        self._holidays = holidays.country_holidays(country, subdiv=subdivision)
        self._weekend = weekend
        self._lock = threading.Lock()  # the holidays object fills years in lazily

    @property
    def data_ends(self) -> date:
        return date(int(self._holidays.end_year), 12, 31)

    def is_working_day(self, day: date) -> bool:
        day = _as_date(day)
        if day.weekday() in self._weekend:
            return False
        with self._lock:
            return day not in self._holidays


@dataclass(frozen=True, slots=True)
class OverriddenCalendar:
    """Configured days off and extra working days on top of another calendar, in every year
    (a warehouse closed for stock-taking, a company holiday, a 调休 Saturday the data lacks)."""

    base: WorkingCalendar
    days_off: frozenset[date] = frozenset()
    working_days: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        both = sorted(self.days_off & self.working_days)
        if both:
            raise ValueError(f"days listed both as day off and as extra working day: {both}")

    @property
    def name(self) -> str:
        return str(getattr(self.base, "name", "configured"))

    def is_working_day(self, day: date) -> bool:
        day = _as_date(day)
        if day in self.days_off:
            return False
        if day in self.working_days:
            return True
        return self.base.is_working_day(day)


def data_ends(calendar: WorkingCalendar) -> date | None:
    """The last day `calendar` has holiday data for; None when it needs none (configured)."""
    while isinstance(calendar, OverriddenCalendar):
        calendar = calendar.base
    ends = getattr(calendar, "data_ends", None)
    return ends if isinstance(ends, date) else None


def watch_horizon(
    calendar: WorkingCalendar, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> None:
    """Exports the time left until `calendar`'s data ends (the end of its last day, UTC),
    computed at every scrape."""
    ends = data_ends(calendar)
    if ends is not None:
        name = str(getattr(calendar, "name", "configured"))
        end = datetime.combine(ends + timedelta(days=1), time.min, tzinfo=UTC)
        HORIZON_SECONDS.labels(name).set_function(lambda: (end - now()).total_seconds())


def is_working_day(calendar: WorkingCalendar, day: date) -> bool:
    """True if ``day`` is a working day in ``calendar``."""
    return calendar.is_working_day(_as_date(day))


def next_working_day(
    calendar: WorkingCalendar, day: date, *, max_days: int = DEFAULT_MAX_SEARCH_DAYS
) -> date:
    """The first working day strictly after ``day``, searching at most ``max_days`` ahead."""
    day = _as_date(day)
    for offset in range(1, max_days + 1):
        candidate = day + timedelta(days=offset)
        if calendar.is_working_day(candidate):
            return candidate
    raise ValueError(
        f"no working day within {max_days} days after {day.isoformat()}; "
        "check the calendar configuration (weekend/holidays)"
    )
