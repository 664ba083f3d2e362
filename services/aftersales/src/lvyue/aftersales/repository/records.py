"""What the repository returns: plain frozen records, never ORM rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from lvyue.aftersales.domain import CaseLine, CaseState, CaseType, Reason, ReturnLine, Source
from lvyue.common.contracts.order import OrderLine, Receiver, accepted
from lvyue.common.records import from_row


@dataclass(frozen=True)
class ShippedOrder:
    """A reviewed and dispatched order: all an after-sale case needs to know about it."""

    order_id: uuid.UUID
    platform: str
    shop_id: str
    platform_order_id: str
    receiver: Receiver
    lines: tuple[OrderLine, ...]
    paid_total: Decimal
    currency: str
    warehouse_id: str
    shipped_at: datetime

    def ordered(self) -> dict[str, tuple[int, Decimal]]:
        """Units bought per SKU and the unit price charged (the first line's, if several)."""
        bought: dict[str, tuple[int, Decimal]] = {}
        for line in self.lines:
            quantity, price = bought.get(line.sku, (0, line.unit_price))
            bought[line.sku] = (quantity + line.quantity, price)
        return bought


@dataclass(frozen=True)
class KnownOrder:
    """What aftersales heard of an order: order.reviewed and order.shipped, in either order."""

    order_id: uuid.UUID
    reviewed: bool
    shipped: ShippedOrder | None  # None until both events arrived


@dataclass(frozen=True)
class Replacement:
    """An exchange's replacement parcel, as fulfilment reported its dispatch."""

    shipment_id: uuid.UUID
    carrier: str
    tracking_number: str
    dispatched_at: datetime


@dataclass(frozen=True)
class Case:
    id: uuid.UUID
    order_id: uuid.UUID
    type: CaseType
    reason: Reason
    description: str
    lines: tuple[CaseLine, ...]
    requested_amount: Decimal | None
    state: CaseState
    source: Source
    platform: str
    shop_id: str
    platform_aftersale_id: str | None
    idempotency_key: str | None
    requested_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    decision_note: str | None
    return_received_at: datetime | None
    returned_lines: tuple[ReturnLine, ...] | None
    replacement: Replacement | None  # set when an exchange's replacement was dispatched
    updated_at: datetime


@dataclass(frozen=True)
class Refund:
    case_id: uuid.UUID
    order_id: uuid.UUID
    reference: str
    amount: Decimal
    currency: str
    refunded_at: datetime
    actor: str


@dataclass(frozen=True)
class HistoryEntry:
    state: str
    at: datetime
    actor: str
    note: str


def case_lines_json(lines: tuple[CaseLine, ...]) -> list[dict[str, Any]]:
    return [
        {"sku": ln.sku, "quantity": ln.quantity, "unit_price": str(ln.unit_price)} for ln in lines
    ]


def returned_lines_json(lines: tuple[ReturnLine, ...]) -> list[dict[str, Any]]:
    return [{"sku": ln.sku, "quantity": ln.quantity, "sellable": ln.sellable} for ln in lines]


def parse_case_lines(data: list[dict[str, Any]]) -> tuple[CaseLine, ...]:
    return tuple(CaseLine(d["sku"], int(d["quantity"]), Decimal(d["unit_price"])) for d in data)


def order_record(row: Any) -> KnownOrder:
    reviewed = row.reviewed_at is not None
    if not reviewed or row.shipped_at is None:
        return KnownOrder(row.order_id, reviewed, None)
    shipped = ShippedOrder(
        order_id=row.order_id,
        platform=row.platform,
        shop_id=row.shop_id,
        platform_order_id=row.platform_order_id,
        receiver=Receiver.model_validate(row.receiver, context=accepted()),
        lines=tuple(OrderLine.model_validate(x, context=accepted()) for x in row.lines),
        paid_total=row.paid_total,
        currency=row.currency,
        warehouse_id=row.warehouse_id,
        shipped_at=row.shipped_at,
    )
    return KnownOrder(row.order_id, reviewed, shipped)


def case_record(row: Any) -> Case:
    returned = row.returned_lines
    return from_row(
        Case,
        row,
        type=CaseType(row.type),
        reason=Reason(row.reason),
        lines=parse_case_lines(row.lines),
        state=CaseState(row.state),
        source=Source(row.source),
        returned_lines=(
            None
            if returned is None
            else tuple(
                ReturnLine(d["sku"], int(d["quantity"]), bool(d["sellable"])) for d in returned
            )
        ),
        replacement=(
            None
            if row.replacement_shipment_id is None
            else Replacement(
                row.replacement_shipment_id,
                row.replacement_carrier,
                row.replacement_tracking_number,
                row.replacement_dispatched_at,
            )
        ),
    )


def refund_record(row: Any) -> Refund:
    return from_row(Refund, row)
