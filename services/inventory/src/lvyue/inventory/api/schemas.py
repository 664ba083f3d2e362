"""Request and response bodies of the stock API (XCreate in, XRead out)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from lvyue.common.contracts.order import Text64, Text128
from lvyue.common.contracts.text import FreeText, OneLine
from lvyue.common.openapi import examples, page_of
from lvyue.common.paging import Page
from lvyue.common.records import model_from
from lvyue.inventory.domain import MovementKind, StockPolicy
from lvyue.inventory.repository import Movement, StockRow

# The order contract's one-line texts: stripped, bounded, no control or format character.
WarehouseId = Text64
Sku = Text128
Reference = Text128


_SKU = {
    "warehouse_id": "WH-SH-01",
    "sku": "TEA-LJ-250G",
    "name": "明前龙井 250g",
    "on_hand": 120,
    "reserved": 8,
    "available": 112,
    "safety_threshold": None,
    "threshold": 50,
    "low_stock": False,
    "last_sale_at": "2026-12-05T09:41:10+08:00",
    "slow_moving_flagged_at": None,
    "created_at": "2026-11-01T08:00:00+08:00",
    "updated_at": "2026-12-05T09:41:10+08:00",
}
_MOVEMENT = {
    "id": 1042,
    "warehouse_id": "WH-SH-01",
    "sku": "TEA-LJ-250G",
    "kind": "receipt",
    "on_hand_delta": 100,
    "reserved_delta": 0,
    "on_hand_after": 220,
    "reserved_after": 8,
    "order_id": None,
    "reference": "GRN-20261205-007",
    "actor": "api:warehouse",
    "note": "到货入库",
    "at": "2026-12-05T10:15:00+08:00",
}


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SkuCreate(_In):
    """PUT body: the SKU's name and its own safety threshold (null: the service default)."""

    model_config = examples({"name": "明前龙井 250g", "safety_threshold": 30})

    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=255), OneLine] = ""
    safety_threshold: int | None = Field(default=None, ge=0, le=1_000_000_000)


class ReceiptCreate(_In):
    model_config = examples(
        {
            "warehouse_id": "WH-SH-01",
            "sku": "TEA-LJ-250G",
            "quantity": 100,
            "reference": "GRN-20261205-007",
            "note": "到货入库",
        }
    )

    warehouse_id: WarehouseId
    sku: Sku
    quantity: int = Field(gt=0, le=1_000_000, description="Units received, at least 1.")
    reference: Reference = Field(
        description="Idempotency key, e.g. the goods-receipt note: a repeat applies nothing."
    )
    note: Annotated[str, StringConstraints(max_length=2000), FreeText] = ""


class AdjustmentCreate(_In):
    model_config = examples(
        {
            "warehouse_id": "WH-SH-01",
            "sku": "TEA-LJ-250G",
            "counted_on_hand": 118,
            "reference": "COUNT-2026W49-03",
            "reason": "周盘点：破损 2 盒",
        }
    )

    warehouse_id: WarehouseId
    sku: Sku
    counted_on_hand: int = Field(ge=0, le=1_000_000_000, description="Units counted on hand.")
    reference: Reference = Field(description="Idempotency key, e.g. the stock-count sheet id.")
    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), FreeText
    ]


class SkuRead(BaseModel):
    model_config = examples(_SKU)

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
        return model_from(cls, row, threshold=policy.threshold(row.safety_threshold))


class SkuPage(Page[SkuRead]):
    model_config = examples(page_of(_SKU))


class MovementRead(BaseModel):
    model_config = examples(_MOVEMENT)

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


class MovementPage(Page[MovementRead]):
    model_config = examples(page_of(_MOVEMENT))
