"""What the repository returns: plain frozen records, never ORM rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from lvyue.common.events.catalog import Priority
from lvyue.common.records import from_row
from lvyue.fulfilment.domain import ShipmentStatus


@dataclass(frozen=True)
class ShipmentLine:
    sku: str
    name: str | None
    quantity: int


@dataclass(frozen=True)
class NewShipment:
    """A shipment about to be requested from its warehouse."""

    id: uuid.UUID
    order_id: uuid.UUID
    warehouse_id: str
    platform: str
    shop_id: str
    platform_order_id: str
    priority: Priority
    lines: tuple[ShipmentLine, ...]
    remarks: str
    ready_at: datetime
    due_at: datetime
    outbound_due_at: datetime
    aftersale_id: uuid.UUID | None = None  # an exchange's replacement
    late_cost: Decimal | None = None  # the platform's compensation if it leaves late


@dataclass(frozen=True)
class ShipmentRecord:
    id: uuid.UUID
    order_id: uuid.UUID
    warehouse_id: str
    platform: str
    shop_id: str
    platform_order_id: str
    priority: Priority
    status: ShipmentStatus
    lines: tuple[ShipmentLine, ...]
    remarks: str
    ready_at: datetime
    due_at: datetime
    outbound_due_at: datetime
    carrier_code: str | None
    tracking_number: str | None
    dispatched_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    created_at: datetime
    updated_at: datetime
    aftersale_id: uuid.UUID | None  # set on an exchange's replacement
    late_cost: Decimal | None = None  # the platform's compensation if it leaves late

    @property
    def subject(self) -> str:
        """Events of a shipment are keyed by its order id: warehouses see one key per order."""
        return str(self.order_id)

    @property
    def deadline_subject(self) -> str:
        """The order's own shipment keeps its deadlines under the order id; a replacement's run
        under its after-sale id, beside the order's (an order may have several exchanges)."""
        return str(self.aftersale_id or self.order_id)

    @property
    def is_replacement(self) -> bool:
        return self.aftersale_id is not None


def lines_json(lines: tuple[ShipmentLine, ...]) -> list[dict[str, Any]]:
    return [{"sku": ln.sku, "name": ln.name, "quantity": ln.quantity} for ln in lines]


def shipment_record(row: Any) -> ShipmentRecord:
    return from_row(
        ShipmentRecord,
        row,
        priority=Priority(row.priority),
        status=ShipmentStatus(row.status),
        lines=tuple(ShipmentLine(ln["sku"], ln.get("name"), ln["quantity"]) for ln in row.lines),
    )
