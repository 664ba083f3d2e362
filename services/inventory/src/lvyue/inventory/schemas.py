"""Request and response bodies of the stock API (XCreate in, XRead out)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from lvyue.inventory.domain import MovementKind, StockPolicy
from lvyue.inventory.repository import Movement, StockRow

WarehouseId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Sku = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SkuCreate(_In):
    """PUT body: the SKU's name and its own safety threshold (null: the service default)."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)] = ""
    safety_threshold: int | None = Field(default=None, ge=0, le=1_000_000_000)


class ReceiptCreate(_In):
    warehouse_id: WarehouseId
    sku: Sku
    quantity: int = Field(gt=0, le=1_000_000, description="Units received, at least 1.")
    reference: Reference = Field(
        description="Idempotency key, e.g. the goods-receipt note: a repeat applies nothing."
    )
    note: Annotated[str, StringConstraints(max_length=2000)] = ""


class AdjustmentCreate(_In):
    warehouse_id: WarehouseId
    sku: Sku
    counted_on_hand: int = Field(ge=0, le=1_000_000_000, description="Units counted on hand.")
    reference: Reference = Field(description="Idempotency key, e.g. the stock-count sheet id.")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class SkuRead(BaseModel):
    warehouse_id: str
    sku: str
    name: str
    on_hand: int
    reserved: int
    available: int
    safety_threshold: int | None
    threshold: int = Field(description="The threshold in force: the SKU's own or the default.")
    low_stock: bool
    last_sale_at: datetime | None
    slow_moving_flagged_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: StockRow, policy: StockPolicy) -> SkuRead:
        return cls(
            warehouse_id=row.warehouse_id,
            sku=row.sku,
            name=row.name,
            on_hand=row.on_hand,
            reserved=row.reserved,
            available=row.available,
            safety_threshold=row.safety_threshold,
            threshold=policy.threshold(row.safety_threshold),
            low_stock=row.low_stock,
            last_sale_at=row.last_sale_at,
            slow_moving_flagged_at=row.slow_moving_flagged_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class SkuPage(BaseModel):
    items: list[SkuRead]
    total: int
    limit: int
    offset: int


class MovementRead(BaseModel):
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

    @classmethod
    def of(cls, movement: Movement) -> MovementRead:
        return cls(**vars(movement))


class MovementPage(BaseModel):
    items: list[MovementRead]
    total: int
    limit: int
    offset: int
