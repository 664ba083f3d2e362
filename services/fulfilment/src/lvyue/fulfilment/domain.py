"""Fulfilment's rules as plain values: shipment states, SLAs, pick order, what "on time" means."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from lvyue.common.deadlines.store import Deadline, DeadlineState
from lvyue.common.deadlines.warehouses import DISPATCH_SLA as DISPATCH_SLA
from lvyue.common.deadlines.warehouses import OUTBOUND_SLA as OUTBOUND_SLA
from lvyue.common.events.catalog import Priority, StockLine

SHIPMENT_SLAS = (OUTBOUND_SLA, DISPATCH_SLA)

# Rule priority: urgent (急单) and promotion (大促) orders are picked first.
PICK_ORDER: tuple[Priority, ...] = (Priority.URGENT, Priority.PROMOTION, Priority.NORMAL)


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
