"""The ledger's pure parts: ISO weeks in the business timezone, when a week is due, the
refund split over SKUs, and the ranking with week-over-week change."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from lvyue.aftersales.domain import CaseLine, RuleViolation, check_refundable, split_amount
from lvyue.aftersales.ledger.figures import CaseFact, RefundFact, entries, tally, top_issues
from lvyue.aftersales.ledger.weeks import IsoWeek, due_week

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_iso_weeks_parse_print_and_step_back_over_the_new_year() -> None:
    assert str(IsoWeek.parse("2026-W47")) == "2026-W47"
    assert str(IsoWeek.parse("2026-W01").previous()) == "2025-W52"
    assert str(IsoWeek.parse("2021-W01").previous()) == "2020-W53"
    for bad in ("2026-W54", "2026W47", "2026-W7", ""):
        with pytest.raises(ValueError, match=r"ISO week"):
            IsoWeek.parse(bad)


def test_a_week_runs_from_local_monday_midnight() -> None:
    start, end = IsoWeek.parse("2026-W47").bounds(SHANGHAI)
    assert start == datetime(2026, 11, 15, 16, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    sunday_evening_utc = datetime(2026, 11, 22, 17, 0, tzinfo=UTC)  # Monday 01:00 in Shanghai
    assert str(IsoWeek.containing(sunday_evening_utc, SHANGHAI)) == "2026-W48"


def test_last_week_is_due_once_this_weeks_publish_time_has_passed() -> None:
    at = time(9, 0)
    before = datetime(2026, 11, 23, 0, 59, tzinfo=UTC)  # Monday 08:59 in Shanghai
    after = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    assert due_week(before, SHANGHAI, weekday=0, at=at) is None
    assert str(due_week(after, SHANGHAI, weekday=0, at=at)) == "2026-W47"
    assert due_week(after, SHANGHAI, weekday=2, at=at) is None  # published on Wednesdays


def test_split_amount_keeps_every_cent() -> None:
    assert split_amount(Decimal("200.00"), [Decimal("168.00"), Decimal("39.90")]) == [
        Decimal("161.62"),
        Decimal("38.38"),
    ]
    shares = split_amount(Decimal("10.00"), [Decimal(1)] * 3)
    assert sum(shares) == Decimal("10.00")
    assert split_amount(Decimal("1.00"), [Decimal(0), Decimal(0)]) == [
        Decimal("0.50"),
        Decimal("0.50"),
    ]


def test_refundable_is_what_was_paid_less_earlier_refunds() -> None:
    check_refundable(Decimal("45.90"), paid_total=Decimal("345.90"), refunded=Decimal("300"))
    with pytest.raises(RuleViolation, match=r"refundable 45\.90"):
        check_refundable(Decimal("45.91"), paid_total=Decimal("345.90"), refunded=Decimal("300"))


def test_rows_cover_both_weeks_and_rank_by_cases_then_money() -> None:
    tea = (CaseLine("TEA", 1, Decimal("10.00")),)
    cup = (CaseLine("CUP", 2, Decimal("5.00")),)
    now = tally(
        [CaseFact("quality", "jd", tea), CaseFact("quality", "jd", cup)],
        [RefundFact("other", "jd", tea, Decimal("3.00"))],
    )
    before = tally([CaseFact("wrong_item", "jd", tea)], [])
    rows = entries(now.by_reason, before.by_reason)
    assert [(r.key, r.cases, r.cases_change) for r in rows] == [
        ("quality", 2, 2),
        ("other", 0, 0),
        ("wrong_item", 0, -1),
    ]
    issues = top_issues(now.by_issue, before.by_issue, 2)
    assert [(i.sku, i.reason, i.units) for i in issues] == [
        ("CUP", "quality", 2),
        ("TEA", "quality", 1),
    ]
