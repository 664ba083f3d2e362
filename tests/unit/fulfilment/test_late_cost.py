"""What a late dispatch costs (the platform's compensation) and why a shipment stands where
it does on the pick list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from lvyue.common.events.catalog import Priority
from lvyue.common.settings import Environment
from lvyue.fulfilment.domain import late_cost, pick_reason
from lvyue.fulfilment.settings import FulfilmentSettings

COSTS = {p: c.rule() for p, c in
         FulfilmentSettings(env=Environment.TEST).late_dispatch_compensation.items()}  # fmt: skip
NOW = datetime(2026, 11, 19, 7, 0, tzinfo=UTC)  # 15:00 in Shanghai
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("platform", "paid", "cost"),
    [
        ("taobao", "300.00", "15.00"),  # 5%
        ("taobao", "40.00", "5.00"),  # at least ¥5
        ("tmall", "2000.00", "30.00"),  # at most ¥30
        ("taobao", "0.00", "5.00"),
        ("jd", "300.00", None),  # no published rule configured: unknown
    ],
)
def test_taobao_and_tmall_compensate_5_percent_between_5_and_30_yuan(
    platform: str, paid: str, cost: str | None
) -> None:
    expected = None if cost is None else Decimal(cost)
    assert late_cost(COSTS, platform, Decimal(paid)) == expected


def test_a_configured_platform_rule_applies() -> None:
    settings = FulfilmentSettings(
        env=Environment.TEST, late_dispatch_compensation={"jd": {"share": "0.1", "minimum": "2"}}
    )
    rules = {p: c.rule() for p, c in settings.late_dispatch_compensation.items()}
    assert late_cost(rules, "jd", Decimal("500")) == Decimal("50.00")  # no cap
    assert late_cost(rules, "taobao", Decimal("500")) is None  # the defaults replaced


@pytest.mark.parametrize(
    ("priority", "due_in", "cost", "reason"),
    [
        (Priority.URGENT, 5 * HOUR, None, "urgent order"),
        (Priority.NORMAL, HOUR, Decimal("30.00"),
         "at risk: due in 60 min, ¥30.00 compensation if late"),
        (Priority.NORMAL, -HOUR / 2, None, "at risk: 30 min past due"),
        (Priority.PROMOTION, 3 * HOUR, Decimal("30.00"), "promotion order"),
        (Priority.NORMAL, 3 * HOUR, Decimal("30.00"), "earliest due first"),
    ],
)  # fmt: skip
def test_the_pick_reason_says_why(
    priority: Priority, due_in: timedelta, cost: Decimal | None, reason: str
) -> None:
    assert pick_reason(priority, NOW + due_in, cost, now=NOW, at_risk=2 * HOUR) == reason
