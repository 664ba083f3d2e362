"""Working calendars per warehouse: a country's own public holidays, configured days off and
working days in every year (covered by the data or not), and how long the data lasts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from prometheus_client import REGISTRY
from pydantic import ValidationError

from lvyue.common.deadlines.calendar import (
    ChineseCalendar,
    ConfiguredCalendar,
    data_ends,
    watch_horizon,
)
from lvyue.common.deadlines.sla import working_calendar
from lvyue.common.deadlines.warehouses import WarehousePolicies
from lvyue.common.settings import Environment, KernelSettings

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
UTC = ZoneInfo("UTC")

WAREHOUSES = {
    "WH-SH-01": {"cutoff": "16:00"},
    "WH-BER-01": {"timezone": "Europe/Berlin", "country": "DE", "subdivision": "BE"},
    "WH-MUC-01": {"timezone": "Europe/Berlin", "country": "DE", "subdivision": "BY"},
    "WH-SH-STOCKTAKE": {"cutoff": "16:00", "days_off": ["2026-11-20"]},
}


def _policies(**overrides: Any) -> WarehousePolicies:
    values: dict[str, Any] = {"env": Environment.TEST, "warehouses": WAREHOUSES, **overrides}
    return WarehousePolicies.from_settings(KernelSettings.model_validate(values))


def _at(tz: ZoneInfo, y: int, m: int, d: int, hour: int, minute: int = 0) -> datetime:
    return datetime(y, m, d, hour, minute, tzinfo=tz)


DUE_TABLE = [
    # A Chinese 调休 Saturday is a working day in Shanghai, a weekend day in Berlin.
    pytest.param("WH-SH-01", _at(SHANGHAI, 2026, 10, 9, 17), _at(SHANGHAI, 2026, 10, 10, 16),
                 id="shanghai-tiaoxiu-saturday"),
    pytest.param("WH-BER-01", _at(BERLIN, 2026, 10, 9, 17), _at(BERLIN, 2026, 10, 12, 16),
                 id="berlin-no-tiaoxiu"),
    # Chinese National Day week is not a holiday in Berlin.
    pytest.param("WH-BER-01", _at(BERLIN, 2026, 10, 5, 10), _at(BERLIN, 2026, 10, 5, 16),
                 id="berlin-works-in-golden-week"),
    # Good Friday, weekend, Easter Monday: German holidays, not Chinese ones.
    pytest.param("WH-BER-01", _at(BERLIN, 2026, 4, 2, 17), _at(BERLIN, 2026, 4, 7, 16),
                 id="berlin-easter"),
    pytest.param("WH-SH-01", _at(SHANGHAI, 2026, 4, 2, 17), _at(SHANGHAI, 2026, 4, 3, 16),
                 id="shanghai-works-on-good-friday"),
    # International Women's Day is a public holiday in Berlin only (Monday 8 March 2027).
    pytest.param("WH-BER-01", _at(BERLIN, 2027, 3, 5, 17), _at(BERLIN, 2027, 3, 9, 16),
                 id="berlin-womens-day"),
    pytest.param("WH-MUC-01", _at(BERLIN, 2027, 3, 5, 17), _at(BERLIN, 2027, 3, 8, 16),
                 id="munich-works-on-womens-day"),
    # Daylight saving: Monday's 16:00 is CEST (14:00 UTC) after the March switch, CET after
    # the October one (15:00 UTC).
    pytest.param("WH-BER-01", _at(BERLIN, 2026, 3, 27, 17), _at(UTC, 2026, 3, 30, 14),
                 id="berlin-dst-start"),
    pytest.param("WH-BER-01", _at(BERLIN, 2026, 10, 23, 17), _at(UTC, 2026, 10, 26, 15),
                 id="berlin-dst-end"),
    # A warehouse's own closure (stock-taking) on top of the statutory calendar.
    pytest.param("WH-SH-STOCKTAKE", _at(SHANGHAI, 2026, 11, 19, 17),
                 _at(SHANGHAI, 2026, 11, 23, 16), id="stock-taking"),
    pytest.param("WH-SH-01", _at(SHANGHAI, 2026, 11, 19, 17), _at(SHANGHAI, 2026, 11, 20, 16),
                 id="the-others-work"),
]  # fmt: skip


@pytest.mark.parametrize(("warehouse", "ready", "due"), DUE_TABLE)
def test_dispatch_due_times_follow_each_warehouses_calendar(
    warehouse: str, ready: datetime, due: datetime
) -> None:
    assert _policies().due_times(warehouse, ready).dispatch_due_at == due


def test_configured_days_off_and_working_days_apply_in_a_year_the_data_covers() -> None:
    policies = _policies(holidays={"2026-11-20"}, extra_working_days={"2026-11-22"})
    # Thursday after the cut-off: Friday is a configured day off, Saturday the weekend,
    # Sunday a configured working day.
    due = policies.due_times("WH-SH-01", _at(SHANGHAI, 2026, 11, 19, 17)).dispatch_due_at
    assert due == _at(SHANGHAI, 2026, 11, 22, 16)
    # They apply to a country calendar too.
    due = policies.due_times("WH-BER-01", _at(BERLIN, 2026, 11, 19, 17)).dispatch_due_at
    assert due == _at(BERLIN, 2026, 11, 22, 16)


def test_chinas_notice_for_a_year_the_data_lacks_applies_to_the_chinese_calendar_only() -> None:
    # Days as an operator copies them from the State Council's notice (examples, not 2027's).
    policies = _policies(cn_holidays={"2027-02-08"}, cn_working_days={"2027-02-20"})

    def due(warehouse: str, ready: datetime) -> datetime:
        return policies.due_times(warehouse, ready).dispatch_due_at

    # Friday after the cut-off: a 调休 Saturday works in Shanghai, not in Berlin.
    assert due("WH-SH-01", _at(SHANGHAI, 2027, 2, 19, 17)) == _at(SHANGHAI, 2027, 2, 20, 16)
    assert due("WH-BER-01", _at(BERLIN, 2027, 2, 19, 17)) == _at(BERLIN, 2027, 2, 22, 16)
    # A statutory holiday (Monday) closes Shanghai, not Berlin.
    assert due("WH-SH-01", _at(SHANGHAI, 2027, 2, 5, 17)) == _at(SHANGHAI, 2027, 2, 9, 16)
    assert due("WH-BER-01", _at(BERLIN, 2027, 2, 5, 17)) == _at(BERLIN, 2027, 2, 8, 16)


def test_a_year_configured_from_the_notice_is_data_not_a_fallback() -> None:
    calendar = working_calendar("chinese", cn_holidays=frozenset({date(2027, 2, 8)}))
    labels = {"year": "2027"}
    before = REGISTRY.get_sample_value("lvyue_working_calendar_fallback_total", labels) or 0.0
    assert not calendar.is_working_day(date(2027, 2, 8))
    assert calendar.is_working_day(date(2027, 2, 9))
    assert not calendar.is_working_day(date(2027, 2, 13))  # a Saturday
    after = REGISTRY.get_sample_value("lvyue_working_calendar_fallback_total", labels) or 0.0
    assert after == before
    ends = data_ends(calendar)
    assert ends is not None
    assert ends >= date(2027, 12, 31)  # the horizon alert clears once the year is configured


def test_a_warehouses_own_days_win_over_the_companys() -> None:
    # Until now a warehouse day contradicting a company day stopped the service at start-up.
    warehouses = {
        **WAREHOUSES,
        "WH-SH-02": {"working_days": ["2026-12-30"]},  # works through the company's day off
        "WH-SH-03": {"days_off": ["2026-12-26"]},  # rests on the company's working Saturday
    }
    policies = _policies(
        warehouses=warehouses, holidays={"2026-12-30"}, extra_working_days={"2026-12-26"}
    )

    def due(warehouse: str, ready: datetime) -> datetime:
        return policies.due_times(warehouse, ready).dispatch_due_at

    tuesday, friday = _at(SHANGHAI, 2026, 12, 29, 17), _at(SHANGHAI, 2026, 12, 25, 17)
    assert due("WH-SH-01", tuesday) == _at(SHANGHAI, 2026, 12, 31, 16)
    assert due("WH-SH-02", tuesday) == _at(SHANGHAI, 2026, 12, 30, 16)
    assert due("WH-SH-01", friday) == _at(SHANGHAI, 2026, 12, 26, 16)
    assert due("WH-SH-03", friday) == _at(SHANGHAI, 2026, 12, 28, 16)


def test_the_chinese_calendar_alone_keeps_its_statutory_answer_without_overrides() -> None:
    calendar = working_calendar("chinese")
    assert calendar.is_working_day(date(2026, 10, 10))  # 调休 Saturday
    assert not calendar.is_working_day(date(2026, 10, 1))  # National Day


@pytest.mark.parametrize(
    ("warehouse", "message"),
    [
        ({"country": "XX"}, "no holiday calendar for country 'XX'"),
        ({"country": "DE", "subdivision": "ZZ"}, "unknown subdivision 'ZZ' of DE"),
        ({"subdivision": "BE"}, "subdivision needs a country"),
        ({"country": "de"}, "country"),
        ({"days_off": ["2026-11-20"], "working_days": ["2026-11-20"]}, "both"),
    ],
)
def test_a_bad_warehouse_calendar_fails_at_start_up(
    warehouse: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        KernelSettings.model_validate({"env": Environment.TEST, "warehouses": {"W": warehouse}})


def test_the_horizon_is_the_last_day_of_the_data() -> None:
    chinese = ChineseCalendar(fallback=ConfiguredCalendar())
    assert data_ends(chinese) is not None
    assert data_ends(working_calendar("chinese", holidays=frozenset({date(2026, 1, 2)}))) == (
        data_ends(chinese)
    )
    assert data_ends(working_calendar("configured")) is None  # needs no data
    berlin = working_calendar("chinese", country="DE", subdivision="BE")
    ends = data_ends(berlin)
    assert ends is not None
    assert ends.year >= 2050


def test_the_horizon_gauge_counts_the_time_until_the_data_ends() -> None:
    chinese = ChineseCalendar(fallback=ConfiguredCalendar())
    ends = data_ends(chinese)
    assert ends is not None
    watch_horizon(chinese, now=lambda: datetime(ends.year, 12, 2, tzinfo=UTC))  # 30 days left
    labels = {"calendar": "CN"}
    value = REGISTRY.get_sample_value("lvyue_working_calendar_horizon_seconds", labels)
    assert value == 30 * 86400.0
