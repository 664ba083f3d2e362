"""How values read on the console's pages: masking, countdowns, times in a zone, paging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from lvyue.common.deadlines.routes import SlaHourRead
from lvyue.console.api.board import rows_of, sparkline
from lvyue.console.paging import pages, query_of
from lvyue.console.views import clock_time, countdown, display_time, masked, time_left


@pytest.mark.parametrize(
    ("value", "kind", "shown"),
    [
        ("张三丰", "name", "张**"),
        ("李", "name", "李*"),
        ("13912345678", "phone", "139****5678"),
        ("+86 139 1234 5678", "phone", "861****5678"),
        ("12345", "phone", "*****"),  # too short to keep anything
        ("浙江省杭州市西湖区文三路 1 号", "address", "***"),
        (None, "name", ""),
        ("", "phone", ""),
    ],
)
def test_personal_data_is_masked(value: str | None, kind: str, shown: str) -> None:
    assert masked(value, kind) == shown


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(None, "—"), (0, "0s"), (59, "59s"), (61, "1m 01s"), (3599, "59m 59s"), (3600, "1h 00m"),
     (7325, "2h 02m"), (-30, "-30s"), (-3700, "-1h 01m")],
)  # fmt: skip
def test_countdown(seconds: int | None, shown: str) -> None:
    assert countdown(seconds) == shown


def test_time_left_is_negative_once_past_and_none_without_a_time() -> None:
    now = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    assert time_left("2026-12-05T16:00:00+08:00", now) == 0
    assert time_left((now + timedelta(minutes=5)).isoformat(), now) == 300
    assert time_left((now - timedelta(seconds=1)).isoformat(), now) == -1
    assert time_left(None, now) is None
    assert time_left("not a time", now) is None


def test_times_show_in_the_given_zone() -> None:
    shanghai, this_year = ZoneInfo("Asia/Shanghai"), datetime.now(UTC).year
    assert display_time(f"{this_year}-06-01T08:00:00+00:00", shanghai) == "06-01 16:00"
    assert display_time("2001-06-01T08:00:00+00:00", shanghai) == "2001-06-01 16:00"
    assert display_time(None, shanghai) == "—"


def test_pages_and_queries() -> None:
    assert pages(0, 0, 50) == pages(0, 0, 50)
    first = pages(120, 0, 50)
    assert (first.previous, first.next, first.first, first.last) == (None, 50, 1, 50)
    last = pages(120, 100, 50)
    assert (last.previous, last.next, last.first, last.last) == (50, None, 101, 120)
    assert query_of(reason="not_paid", overdue=True, shop=None, state="") == (
        "reason=not_paid&overdue=true"
    )


def test_sparkline_draws_each_hours_compliance() -> None:
    start = datetime(2026, 12, 5, tzinfo=UTC)
    hourly = [
        SlaHourRead(start=start, met=met, breached=breached)
        for met, breached in ((1, 0), (1, 1), (0, 2))
    ]
    points = [tuple(map(float, p.split(","))) for p in sparkline(hourly).split()]
    assert [x for x, _ in points] == [0.0, 48.0, 96.0]
    assert [y for _, y in points] == [1.0, 10.0, 19.0]  # 100% at the top, 0% at the bottom
    assert sparkline([]) == ""


def test_the_board_names_the_oldest_of_the_services_answers_to_the_second() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    read = [datetime(2026, 12, 6, 8, 0, s, tzinfo=UTC) for s in (7, 3, 5)]
    parts = [
        rows_of("order-review", {"items": [], "window_s": 86400.0, "hours": 24,
                                 "computed_at": at.isoformat()})
        for at in read
    ]  # fmt: skip
    assert [part.computed_at for part in parts] == read
    assert clock_time(min(part.computed_at for part in parts), shanghai) == "16:00:03"
