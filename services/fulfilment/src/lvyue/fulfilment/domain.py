"""Fulfilment's rules as plain values: shipment states, SLAs, pick order, what "on time" means."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

from lvyue.common.deadlines.store import Deadline, DeadlineState
from lvyue.common.deadlines.warehouses import DISPATCH_SLA as DISPATCH_SLA
from lvyue.common.deadlines.warehouses import OUTBOUND_SLA as OUTBOUND_SLA
from lvyue.common.events.catalog import Priority, StockLine

SHIPMENT_SLAS = (OUTBOUND_SLA, DISPATCH_SLA)

# Rule priority: urgent (急单) and promotion (大促) orders are picked first.
PICK_ORDER: tuple[Priority, ...] = (Priority.URGENT, Priority.PROMOTION, Priority.NORMAL)


# Nothing lvyue tracks happened before 2000: an earlier time a warehouse or carrier reports is
# a typo or a forgery, and the earliest (year 1 at +14:00) has no UTC value PostgreSQL stores.
EARLIEST_REPORTED = datetime(2000, 1, 1, tzinfo=UTC)


def not_before_2000(at: datetime) -> datetime:
    if at < EARLIEST_REPORTED:  # a comparison: converting year 1 at +14:00 to UTC overflows
        raise ValueError("must be 2000-01-01 or later: no parcel moved before that")
    return at


ReportedTime = Annotated[AwareDatetime, AfterValidator(not_before_2000)]
"""A time a warehouse or carrier reports (dispatch, scan): with an offset, not before 2000."""


class ShipmentStatus(StrEnum):
    PENDING = "pending"  # requested from the warehouse, not dispatched yet
    DISPATCHED = "dispatched"
    CANCELLED = "cancelled"


def on_time(closed: Iterable[Deadline | None]) -> bool:
    """A dispatch is on time only when every shipment SLA was met."""
    return all(d is not None and d.state is DeadlineState.MET for d in closed)


def stock_lines(lines: Iterable[tuple[str, int]]) -> tuple[StockLine, ...]:
    """Units per SKU, sorted by SKU: an order may list one SKU on several lines."""
    totals: dict[str, int] = {}
    for sku, quantity in lines:
        totals[sku] = totals.get(sku, 0) + quantity
    return tuple(StockLine(sku=sku, quantity=q) for sku, q in sorted(totals.items()))


@dataclass(frozen=True)
class LateDispatchCompensation:
    """What a platform makes the seller pay the buyer when a parcel leaves late: a share of
    what the buyer paid, within bounds (Taobao: 5%, at least ¥5, at most ¥30)."""

    share: Decimal
    minimum: Decimal = Decimal("0")
    maximum: Decimal | None = None

    def cost(self, paid_total: Decimal) -> Decimal:
        cost = max(paid_total * self.share, self.minimum)
        if self.maximum is not None:
            cost = min(cost, self.maximum)
        return cost.quantize(Decimal("0.01"))


LateCosts = Mapping[str, LateDispatchCompensation]
"""Per platform slug; a platform not listed publishes no compensation (cost unknown)."""


def late_cost(costs: LateCosts, platform: str, paid_total: Decimal) -> Decimal | None:
    rule = costs.get(platform)
    return None if rule is None else rule.cost(paid_total)


def pick_reason(
    priority: Priority,
    due_at: datetime,
    cost: Decimal | None,
    *,
    now: datetime,
    at_risk: timedelta,
) -> str:
    """Why a pending shipment stands where it does on the pick list (see the list's order)."""
    if priority is Priority.URGENT:
        return "urgent order"
    left = due_at - now
    if left <= at_risk:
        minutes = int(left.total_seconds() // 60)
        when = f"due in {minutes} min" if minutes >= 0 else f"{-minutes} min past due"
        stake = f", ¥{cost} compensation if late" if cost else ""
        return f"at risk: {when}{stake}"
    if priority is Priority.PROMOTION:
        return "promotion order"
    return "earliest due first"
