"""What the repository returns: plain frozen records, never ORM rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lvyue.common.records import from_row
from lvyue.inventory.domain import AllocationState, MovementKind, ReservationState, available

StockKey = tuple[str, str]  # (warehouse_id, sku)


@dataclass(frozen=True)
class StockRow:
    warehouse_id: str
    sku: str
    name: str
    on_hand: int
    reserved: int
    safety_threshold: int | None
    low_stock: bool
    last_sale_at: datetime | None
    slow_moving_flagged_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def key(self) -> StockKey:
        return (self.warehouse_id, self.sku)

    @property
    def available(self) -> int:
        return available(self.on_hand, self.reserved)


@dataclass(frozen=True)
class Reservation:
    order_id: uuid.UUID
    warehouse_id: str
    sku: str
    quantity: int
    state: ReservationState

    @property
    def key(self) -> StockKey:
        return (self.warehouse_id, self.sku)


@dataclass(frozen=True)
class Movement:
    id: int
    warehouse_id: str
    sku: str
    kind: MovementKind
    on_hand_delta: int
    reserved_delta: int
    on_hand_after: int
    reserved_after: int
    order_id: uuid.UUID | None
    reference: str | None
    actor: str
    note: str
    at: datetime


@dataclass(frozen=True)
class AllocationRecord:
    """What inventory last decided for an order, and the order version it decided on."""

    order_id: uuid.UUID
    state: AllocationState
    as_of: datetime


def stock_record(row: Any) -> StockRow:
    return from_row(StockRow, row)


def movement_record(row: Any) -> Movement:
    return from_row(Movement, row, kind=MovementKind(row.kind))
