"""inventory's events: stock reserved or refused for an order, low stock, slow-moving SKUs."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, Field

from lvyue.common.events.catalog.base import Payload
from lvyue.common.events.registry import register


class StockLine(Payload):
    sku: str
    quantity: int = Field(gt=0)


class ShortSku(Payload):
    """A SKU the warehouse has, but not enough of (unknown SKUs are listed apart)."""

    sku: str
    requested: int
    available: int


class InventoryReserved(Payload):
    """Every line of the order is reserved (all or none)."""

    order_id: uuid.UUID
    warehouse_id: str
    lines: tuple[StockLine, ...]
    reserved_at: AwareDatetime


class InventoryRejected(Payload):
    """Nothing was reserved: some SKUs are short or unknown."""

    order_id: uuid.UUID
    warehouse_id: str
    short: tuple[ShortSku, ...]
    unknown_skus: tuple[str, ...] = ()
    rejected_at: AwareDatetime


class LowStock(Payload):
    """Available stock fell below the SKU's safety threshold (once per crossing)."""

    sku: str
    warehouse_id: str
    available: int
    threshold: int
    suggested_replenishment: int


class SlowMoving(Payload):
    """No sale of the SKU for the configured number of consecutive days."""

    sku: str
    warehouse_id: str
    last_sale_at: datetime | None
    days_without_sale: int


INVENTORY_RESERVED = register(
    "inventory.reserved", InventoryReserved, description="All lines reserved."
)


INVENTORY_REJECTED = register(
    "inventory.rejected", InventoryRejected, description="Not reserved: short or unknown SKUs."
)


INVENTORY_LOW_STOCK = register(
    "inventory.low_stock", LowStock, description="Below the safety threshold; key = SKU."
)


INVENTORY_SLOW_MOVING = register(
    "inventory.slow_moving", SlowMoving, description="No sale for N days; key = SKU."
)
