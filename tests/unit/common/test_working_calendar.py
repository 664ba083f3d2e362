"""Working-day calendars: configured weekends/holidays, Chinese statutory data, fallback."""

from datetime import date, datetime

import chinese_calendar
import pytest
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from lvyue.common.deadlines.calendar import (
    ChineseCalendar,
    ConfiguredCalendar,
    WorkingCalendar,
    is_working_day,
    next_working_day,
)

NEW_YEAR_2027 = date(2027, 1, 1)


def fallback_total(year: int) -> float:
    """Current value of the fallback counter for ``year`` (0 if never incremented)."""
    value = REGISTRY.get_sample_value("lvyue_working_calendar_fallback_total", {"year": str(year)})
    return value or 0.0


def chinese(holidays: frozenset[date] = frozenset()) -> ChineseCalendar:
    """A fresh ChineseCalendar (own once-per-year log state) over a configured fallback."""
    return ChineseCalendar(fallback=ConfiguredCalendar(holidays=holidays))


@pytest.mark.parametrize(
    ("calendar", "day", "expected"),
    [
        pytest.param(ConfiguredCalendar(), date(2026, 6, 8), True, id="monday"),
        pytest.param(ConfiguredCalendar(), date(2026, 6, 12), True, id="friday"),
        pytest.param(ConfiguredCalendar(), date(2026, 6, 13), False, id="saturday"),
        pytest.param(ConfiguredCalendar(), date(2026, 6, 14), False, id="sunday"),
        pytest.param(
            ConfiguredCalendar(holidays=frozenset({date(2026, 6, 10)})),
            date(2026, 6, 10),
            False,
            id="configured-holiday-on-weekday",
        ),
        pytest.param(
            ConfiguredCalendar(extra_working_days=frozenset({date(2026, 6, 13)})),
            date(2026, 6, 13),
            True,
            id="extra-working-saturday",
        ),
        pytest.param(
            ConfiguredCalendar(weekend=frozenset({4, 5})),
            date(2026, 6, 14),
            True,
            id="fri-sat-weekend-sunday",
        ),
        pytest.param(
            ConfiguredCalendar(weekend=frozenset({4, 5})),
            date(2026, 6, 12),
            False,
            id="fri-sat-weekend-friday",
        ),
        pytest.param(
            ConfiguredCalendar(), datetime(2026, 6, 13, 10, 0), False, id="datetime-is-its-date"
        ),
        pytest.param(
            ConfiguredCalendar(holidays=frozenset({date(2026, 6, 10)})),
            datetime(2026, 6, 10, 10, 0),
            False,
            id="datetime-matches-holiday",
        ),
    ],
)
def test_configured_calendar(calendar: ConfiguredCalendar, day: date, expected: bool) -> None:
    assert calendar.is_working_day(day) is expected
    assert is_working_day(calendar, day) is expected


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"weekend": frozenset({7})}, "weekend days", id="weekday-out-of-range"),
        pytest.param({"weekend": frozenset({-1})}, "weekend days", id="negative-weekday"),
        pytest.param(
            {
                "holidays": frozenset({date(2026, 6, 13)}),
                "extra_working_days": frozenset({date(2026, 6, 13)}),
            },
            "both as holiday and as extra working day",
            id="holiday-and-working-day",
        ),
    ],
)
def test_configured_calendar_rejects_bad_config(
    kwargs: dict[str, frozenset[int]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ConfiguredCalendar(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(date(2026, 6, 10), True, id="ordinary-wednesday"),
        pytest.param(date(2026, 6, 13), False, id="ordinary-saturday"),
        pytest.param(date(2026, 1, 1), False, id="new-year-2026"),
        pytest.param(date(2026, 1, 4), True, id="tiaoxiu-sunday-2026-01-04"),
        pytest.param(date(2026, 2, 14), True, id="tiaoxiu-saturday-2026-02-14"),
        pytest.param(date(2026, 2, 16), False, id="spring-festival-monday"),
        pytest.param(date(2026, 2, 23), False, id="spring-festival-last-day"),
        pytest.param(date(2026, 2, 24), True, id="after-spring-festival"),
        pytest.param(date(2026, 5, 1), False, id="labour-day"),
        pytest.param(date(2026, 5, 9), True, id="tiaoxiu-saturday-2026-05-09"),
        pytest.param(date(2026, 9, 20), True, id="tiaoxiu-sunday-2026-09-20"),
        pytest.param(date(2026, 9, 30), True, id="eve-of-national-day"),
        pytest.param(date(2026, 10, 1), False, id="national-day-first"),
        pytest.param(date(2026, 10, 5), False, id="national-day-monday"),
        pytest.param(date(2026, 10, 7), False, id="national-day-last"),
        pytest.param(date(2026, 10, 8), True, id="after-national-day"),
        pytest.param(date(2026, 10, 10), True, id="tiaoxiu-saturday-2026-10-10"),
        pytest.param(date(2026, 12, 31), True, id="last-known-day"),
    ],
)
def test_chinese_calendar_2026(day: date, expected: bool) -> None:
    before = fallback_total(day.year)
    assert chinese().is_working_day(day) is expected
    assert fallback_total(day.year) == before  # covered year: no fallback


def test_tiaoxiu_days_in_table_are_the_2026_weekend_working_days() -> None:
    """Guards the table above against a changed data package: scan 2026 for working weekends."""
    working_weekends = [
        d
        for d in chinese_calendar.get_workdays(date(2026, 1, 1), date(2026, 12, 31))
        if d.weekday() >= 5
    ]
    assert working_weekends == [
        date(2026, 1, 4),
        date(2026, 2, 14),
        date(2026, 2, 28),
        date(2026, 5, 9),
        date(2026, 9, 20),
        date(2026, 10, 10),
    ]


def test_chinese_calendar_package_raises_for_uncovered_year() -> None:
    """Documents the package behaviour the fallback relies on."""
    with pytest.raises(NotImplementedError, match="no available data for year 2027"):
        chinese_calendar.is_workday(NEW_YEAR_2027)


@pytest.mark.parametrize(
    ("holidays", "day", "expected"),
    [
        pytest.param(frozenset(), NEW_YEAR_2027, True, id="2027-new-year-not-configured"),
        pytest.param(
            frozenset({NEW_YEAR_2027}), NEW_YEAR_2027, False, id="2027-new-year-configured"
        ),
        pytest.param(frozenset(), date(2027, 1, 2), False, id="2027-saturday"),
        pytest.param(frozenset(), date(2027, 1, 4), True, id="2027-monday"),
        pytest.param(frozenset(), date(2003, 6, 9), True, id="before-data-range-monday"),
        pytest.param(frozenset(), date(2003, 6, 7), False, id="before-data-range-saturday"),
    ],
)
def test_fallback_uses_configured_calendar(
    holidays: frozenset[date], day: date, expected: bool
) -> None:
    assert chinese(holidays).is_working_day(day) is expected


def test_fallback_counts_every_use_and_logs_once_per_year() -> None:
    calendar = chinese()
    before_2027, before_2028 = fallback_total(2027), fallback_total(2028)
    with capture_logs() as logs:
        for day in (date(2027, 1, 4), date(2027, 1, 5), date(2027, 6, 1), date(2028, 1, 3)):
            calendar.is_working_day(day)
        calendar.is_working_day(date(2026, 6, 10))  # covered: neither counted nor logged
    assert fallback_total(2027) - before_2027 == 3
    assert fallback_total(2028) - before_2028 == 1
    fallback_logs = [e for e in logs if e["event"] == "working_calendar_fallback"]
    assert [(e["log_level"], e["year"]) for e in fallback_logs] == [
        ("warning", 2027),
        ("warning", 2028),
    ]


@pytest.mark.parametrize(
    ("calendar", "day", "expected"),
    [
        pytest.param(ConfiguredCalendar(), date(2026, 6, 10), date(2026, 6, 11), id="wed-to-thu"),
        pytest.param(ConfiguredCalendar(), date(2026, 6, 12), date(2026, 6, 15), id="fri-to-mon"),
        pytest.param(ConfiguredCalendar(), date(2026, 6, 13), date(2026, 6, 15), id="sat-to-mon"),
        pytest.param(chinese(), date(2026, 9, 30), date(2026, 10, 8), id="over-national-day"),
        pytest.param(chinese(), date(2026, 10, 9), date(2026, 10, 10), id="fri-to-tiaoxiu-sat"),
        pytest.param(
            chinese(), date(2026, 2, 13), date(2026, 2, 14), id="fri-to-tiaoxiu-sat-spring"
        ),
        pytest.param(chinese(), date(2026, 2, 14), date(2026, 2, 24), id="over-spring-festival"),
        pytest.param(chinese(), date(2026, 12, 31), NEW_YEAR_2027, id="year-end-fallback"),
        pytest.param(
            chinese(frozenset({NEW_YEAR_2027})),
            date(2026, 12, 31),
            date(2027, 1, 4),
            id="year-end-fallback-configured-holiday",
        ),
    ],
)
def test_next_working_day(calendar: WorkingCalendar, day: date, expected: date) -> None:
    assert next_working_day(calendar, day) == expected


def test_next_working_day_is_strictly_after() -> None:
    assert next_working_day(ConfiguredCalendar(), date(2026, 6, 8)) == date(2026, 6, 9)


@pytest.mark.parametrize(
    ("calendar", "max_days"),
    [
        pytest.param(ConfiguredCalendar(weekend=frozenset(range(7))), 60, id="no-working-days"),
        pytest.param(ConfiguredCalendar(), 1, id="search-bound-too-short"),
    ],
)
def test_next_working_day_bounded(calendar: ConfiguredCalendar, max_days: int) -> None:
    # 2026-06-12 is a Friday: with max_days=1 only the Saturday is looked at.
    with pytest.raises(ValueError, match=f"no working day within {max_days} days after 2026-06-12"):
        next_working_day(calendar, date(2026, 6, 12), max_days=max_days)
