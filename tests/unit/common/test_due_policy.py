"""Due-time policies: durations, the 16:00 dispatch cut-off, next-day reviews, config specs."""

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from lvyue.common.deadlines.calendar import ChineseCalendar, ConfiguredCalendar
from lvyue.common.deadlines.policy import (
    DailyCutoff,
    DuePolicy,
    Duration,
    NextDayAt,
    parse_duration,
    policy_from_config,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

CN_CALENDAR = ChineseCalendar(fallback=ConfiguredCalendar())
CN_CALENDAR_2027_NEW_YEAR = ChineseCalendar(
    fallback=ConfiguredCalendar(holidays=frozenset({date(2027, 1, 1)}))
)
DISPATCH_1600 = DailyCutoff(time(16, 0), SHANGHAI, CN_CALENDAR)


def sh(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0) -> datetime:
    """A wall-clock time in Asia/Shanghai."""
    return datetime(y, mo, d, h, mi, s, us, tzinfo=SHANGHAI)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """A UTC time."""
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def assert_utc(value: datetime) -> None:
    assert value.tzinfo is UTC


# 2026-06-08..14 is an ordinary week (Mon..Sun); Shanghai is UTC+8 all year.
@pytest.mark.parametrize(
    ("start", "expected"),
    [
        pytest.param(sh(2026, 6, 10, 15, 59), sh(2026, 6, 10, 16), id="15:59-same-day"),
        pytest.param(
            sh(2026, 6, 10, 15, 59, 59, 999999), sh(2026, 6, 10, 16), id="last-microsecond-same-day"
        ),
        pytest.param(sh(2026, 6, 10, 16, 0), sh(2026, 6, 11, 16), id="16:00-exactly-next-day"),
        pytest.param(sh(2026, 6, 10, 16, 1), sh(2026, 6, 11, 16), id="16:01-next-day"),
        pytest.param(sh(2026, 6, 10, 23, 59), sh(2026, 6, 11, 16), id="23:59-next-day"),
        pytest.param(sh(2026, 6, 10, 0, 30), sh(2026, 6, 10, 16), id="00:30-same-day"),
        pytest.param(sh(2026, 6, 12, 17, 0), sh(2026, 6, 15, 16), id="friday-17:00-to-monday"),
        pytest.param(sh(2026, 6, 13, 10, 0), sh(2026, 6, 15, 16), id="saturday-to-monday"),
        pytest.param(sh(2026, 6, 14, 18, 0), sh(2026, 6, 15, 16), id="sunday-evening-to-monday"),
        pytest.param(
            sh(2026, 9, 30, 17, 0), sh(2026, 10, 8, 16), id="national-day-eve-to-first-working-day"
        ),
        pytest.param(sh(2026, 10, 3, 9, 0), sh(2026, 10, 8, 16), id="during-national-day"),
        pytest.param(sh(2026, 10, 10, 10, 0), sh(2026, 10, 10, 16), id="tiaoxiu-saturday-same-day"),
        pytest.param(
            sh(2026, 10, 9, 20, 0), sh(2026, 10, 10, 16), id="friday-before-tiaoxiu-saturday"
        ),
        pytest.param(sh(2026, 5, 9, 15, 0), sh(2026, 5, 9, 16), id="labour-day-tiaoxiu-saturday"),
        pytest.param(
            sh(2026, 5, 8, 16, 30), sh(2026, 5, 9, 16), id="friday-before-labour-day-saturday"
        ),
        pytest.param(
            utc(2026, 6, 10, 17, 0), sh(2026, 6, 11, 16), id="utc-start-already-next-local-day"
        ),
        pytest.param(utc(2026, 6, 10, 7, 59), sh(2026, 6, 10, 16), id="utc-start-before-cutoff"),
        pytest.param(utc(2026, 6, 10, 8, 0), sh(2026, 6, 11, 16), id="utc-start-at-cutoff"),
        pytest.param(
            datetime(2026, 6, 10, 3, 0, tzinfo=NEW_YORK), sh(2026, 6, 10, 16), id="new-york-start"
        ),
        pytest.param(sh(2026, 12, 31, 17, 0), sh(2027, 1, 1, 16), id="year-end-falls-back"),
        pytest.param(sh(2026, 12, 31, 15, 0), sh(2026, 12, 31, 16), id="year-end-before-cutoff"),
    ],
)
def test_dispatch_cutoff(start: datetime, expected: datetime) -> None:
    due = DISPATCH_1600.due_at(start)
    assert due == expected
    assert_utc(due)


def test_dispatch_cutoff_year_end_uses_configured_holidays() -> None:
    policy = DailyCutoff(time(16, 0), SHANGHAI, CN_CALENDAR_2027_NEW_YEAR)
    assert policy.due_at(sh(2026, 12, 31, 17, 0)) == sh(2027, 1, 4, 16)


@pytest.mark.parametrize(
    ("policy", "start", "expected"),
    [
        pytest.param(
            NextDayAt(time(9), SHANGHAI),
            sh(2026, 6, 10, 23, 59),
            sh(2026, 6, 11, 9),
            id="paid-23:59",
        ),
        pytest.param(
            NextDayAt(time(9), SHANGHAI), sh(2026, 6, 10, 0, 1), sh(2026, 6, 11, 9), id="paid-00:01"
        ),
        pytest.param(
            NextDayAt(time(9), SHANGHAI),
            utc(2026, 6, 10, 16, 30),
            sh(2026, 6, 12, 9),
            id="utc-start-already-next-local-day",
        ),
        pytest.param(
            NextDayAt(time(9), SHANGHAI),
            sh(2026, 6, 12, 20),
            sh(2026, 6, 13, 9),
            id="no-calendar-friday-to-saturday",
        ),
        pytest.param(
            NextDayAt(time(9), SHANGHAI, CN_CALENDAR),
            sh(2026, 6, 12, 20),
            sh(2026, 6, 15, 9),
            id="calendar-friday-to-monday",
        ),
        pytest.param(
            NextDayAt(time(9), SHANGHAI, CN_CALENDAR),
            sh(2026, 9, 30, 8),
            sh(2026, 10, 8, 9),
            id="calendar-over-national-day",
        ),
        pytest.param(
            NextDayAt(time(9), SHANGHAI, CN_CALENDAR),
            sh(2026, 12, 31, 12),
            sh(2027, 1, 1, 9),
            id="calendar-year-end-falls-back",
        ),
        pytest.param(
            NextDayAt(time(9), BERLIN),
            datetime(2026, 3, 28, 12, tzinfo=BERLIN),
            utc(2026, 3, 29, 7),
            id="berlin-into-summer-time",
        ),
        pytest.param(
            NextDayAt(time(9), BERLIN),
            datetime(2026, 10, 24, 12, tzinfo=BERLIN),
            utc(2026, 10, 25, 8),
            id="berlin-into-winter-time",
        ),
        pytest.param(
            NextDayAt(time(2, 30), NEW_YORK),
            datetime(2026, 3, 7, 12, tzinfo=NEW_YORK),
            utc(2026, 3, 8, 7, 30),
            id="new-york-dst-gap-maps-forward",
        ),
    ],
)
def test_next_day_at(policy: NextDayAt, start: datetime, expected: datetime) -> None:
    due = policy.due_at(start)
    assert due == expected
    assert_utc(due)


@pytest.mark.parametrize(
    ("delta", "start", "expected"),
    [
        pytest.param(
            timedelta(hours=2), sh(2026, 6, 10, 23), utc(2026, 6, 10, 17), id="abnormal-contact-2h"
        ),
        pytest.param(
            timedelta(hours=24), sh(2026, 6, 10, 10), utc(2026, 6, 11, 2), id="outbound-24h"
        ),
        pytest.param(
            timedelta(hours=48), sh(2026, 6, 10, 10), utc(2026, 6, 12, 2), id="refund-48h"
        ),
        pytest.param(
            timedelta(minutes=5), utc(2026, 12, 31, 23, 58), utc(2027, 1, 1, 0, 3), id="tracking-5m"
        ),
        pytest.param(
            timedelta(hours=24),
            datetime(2026, 3, 28, 12, tzinfo=BERLIN),
            utc(2026, 3, 29, 11),
            id="24h-elapsed-across-dst",
        ),
    ],
)
def test_duration(delta: timedelta, start: datetime, expected: datetime) -> None:
    due = Duration(delta).due_at(start)
    assert due == expected
    assert due - start == delta
    assert_utc(due)


@pytest.mark.parametrize(
    "delta",
    [pytest.param(timedelta(0), id="zero"), pytest.param(timedelta(hours=-1), id="negative")],
)
def test_duration_must_be_positive(delta: timedelta) -> None:
    with pytest.raises(ValueError, match="duration must be positive"):
        Duration(delta)


@pytest.mark.parametrize(
    "policy",
    [
        pytest.param(Duration(timedelta(hours=2)), id="duration"),
        pytest.param(DISPATCH_1600, id="cutoff"),
        pytest.param(NextDayAt(time(9), SHANGHAI), id="next-day-at"),
        pytest.param(NextDayAt(time(9), SHANGHAI, CN_CALENDAR), id="next-working-day-at"),
    ],
)
def test_naive_start_rejected(policy: DuePolicy) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        policy.due_at(datetime(2026, 6, 10, 10, 0))


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: DailyCutoff(time(16, tzinfo=UTC), SHANGHAI, CN_CALENDAR), id="cutoff"),
        pytest.param(lambda: NextDayAt(time(9, tzinfo=UTC), SHANGHAI), id="next-day-at"),
    ],
)
def test_wall_clock_time_with_tzinfo_rejected(build) -> None:
    with pytest.raises(ValueError, match="naive wall-clock time"):
        build()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2h", timedelta(hours=2), id="2h"),
        pytest.param("48h", timedelta(hours=48), id="48h"),
        pytest.param("5m", timedelta(minutes=5), id="5m"),
        pytest.param("30s", timedelta(seconds=30), id="30s"),
        pytest.param("1d", timedelta(days=1), id="1d"),
        pytest.param("1h30m", timedelta(hours=1, minutes=30), id="1h30m"),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param("duration:2h", Duration(timedelta(hours=2)), id="duration-2h"),
        pytest.param("duration:48h", Duration(timedelta(hours=48)), id="duration-48h"),
        pytest.param("duration:5m", Duration(timedelta(minutes=5)), id="duration-5m"),
        pytest.param(
            "cutoff:16:00", DailyCutoff(time(16), SHANGHAI, CN_CALENDAR), id="cutoff-16:00"
        ),
        pytest.param(
            "cutoff:16:00:30",
            DailyCutoff(time(16, 0, 30), SHANGHAI, CN_CALENDAR),
            id="cutoff-seconds",
        ),
        pytest.param("next_day_at:09:00", NextDayAt(time(9), SHANGHAI), id="next-day-at-09:00"),
        pytest.param("next_day_at:9:00", NextDayAt(time(9), SHANGHAI), id="next-day-at-9:00"),
        pytest.param(
            "next_working_day_at:09:00",
            NextDayAt(time(9), SHANGHAI, CN_CALENDAR),
            id="next-working-day-at-09:00",
        ),
        pytest.param("  duration:2h ", Duration(timedelta(hours=2)), id="surrounding-whitespace"),
    ],
)
def test_policy_from_config(spec: str, expected: DuePolicy) -> None:
    assert policy_from_config(spec, SHANGHAI, CN_CALENDAR) == expected


def test_policy_from_config_duration_needs_no_calendar() -> None:
    assert policy_from_config("duration:2h", SHANGHAI) == Duration(timedelta(hours=2))


def test_policy_from_config_cutoff_behaves_like_dispatch_1600() -> None:
    policy = policy_from_config("cutoff:16:00", SHANGHAI, CN_CALENDAR)
    assert policy.due_at(sh(2026, 9, 30, 17)) == sh(2026, 10, 8, 16)


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        pytest.param("", "expected one of", id="empty"),
        pytest.param("duration", "expected one of", id="no-argument"),
        pytest.param("duration:", "expected one of", id="empty-argument"),
        pytest.param("duration:2", "bad duration", id="duration-without-unit"),
        pytest.param("duration:2x", "bad duration", id="duration-bad-unit"),
        pytest.param("duration:-1h", "bad duration", id="duration-negative"),
        pytest.param("duration:0h", "must be positive", id="duration-zero"),
        pytest.param("duration:2 h", "bad duration", id="duration-inner-space"),
        pytest.param("cutoff:16", "bad time", id="cutoff-without-minutes"),
        pytest.param("cutoff:25:00", "bad time", id="cutoff-hour-out-of-range"),
        pytest.param("cutoff:16:60", "bad time", id="cutoff-minute-out-of-range"),
        pytest.param("next_day_at:9am", "bad time", id="next-day-at-9am"),
        pytest.param("weekly:mon", "unknown kind 'weekly'", id="unknown-kind"),
        pytest.param("Duration:2h", "unknown kind 'Duration'", id="kind-is-case-sensitive"),
    ],
)
def test_policy_from_config_invalid(spec: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(spec))) as info:
        policy_from_config(spec, SHANGHAI, CN_CALENDAR)
    assert reason in str(info.value)


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param("cutoff:16:00", id="cutoff"),
        pytest.param("next_working_day_at:09:00", id="next-working-day-at"),
    ],
)
def test_policy_from_config_calendar_required(spec: str) -> None:
    with pytest.raises(ValueError, match="needs a working-day calendar"):
        policy_from_config(spec, SHANGHAI)
