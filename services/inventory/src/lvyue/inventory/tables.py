"""Inventory's tables: stock per (warehouse, SKU), order reservations, and the movement trail."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)

from lvyue.common.tables import TZ, service_metadata

metadata = service_metadata()

stock = Table(
    "stock",
    metadata,
    Column("warehouse_id", Text, nullable=False),
    Column("sku", Text, nullable=False),
    Column("name", Text, nullable=False, server_default=""),
    Column("on_hand", Integer, nullable=False, server_default=text("0")),
    Column("reserved", Integer, nullable=False, server_default=text("0")),
    Column("safety_threshold", Integer),  # null: the service's default threshold
    Column("low_stock", Boolean, nullable=False, server_default=text("false")),  # the latch
    Column("last_sale_at", TZ),
    Column("slow_moving_flagged_at", TZ),
    Column("created_at", TZ, nullable=False),
    Column("updated_at", TZ, nullable=False),
    PrimaryKeyConstraint("warehouse_id", "sku"),
    # no_oversell, enforced by the database whatever the code does
    CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
    CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
    CheckConstraint("safety_threshold >= 0", name="safety_threshold_not_negative"),
    Index("ix_stock_low_stock", "warehouse_id", postgresql_where=text("low_stock")),
)

# `order_id` in `reservations` and `order_allocations` is the holder of the stock: an order,
# or an exchange's replacement parcel (its after-sale id; no order id collides with it).
reservations = Table(
    "reservations",
    metadata,
    Column("order_id", Uuid, nullable=False),
    Column("warehouse_id", Text, nullable=False),
    Column("sku", Text, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("state", Text, nullable=False),
    Column("created_at", TZ, nullable=False),
    Column("updated_at", TZ, nullable=False),
    PrimaryKeyConstraint("order_id", "sku"),
    ForeignKeyConstraint(["warehouse_id", "sku"], ["stock.warehouse_id", "stock.sku"]),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    CheckConstraint("state IN ('reserved', 'released', 'deducted')", name="state"),
    Index("ix_reservations_warehouse_id_sku", "warehouse_id", "sku"),
)

stock_movements = Table(
    "stock_movements",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("warehouse_id", Text, nullable=False),
    Column("sku", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("on_hand_delta", Integer, nullable=False),
    Column("reserved_delta", Integer, nullable=False),
    Column("on_hand_after", Integer, nullable=False),
    Column("reserved_after", Integer, nullable=False),
    Column("order_id", Uuid),
    Column("reference", Text),  # idempotency key of an API call or an event-side document
    Column("actor", Text, nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("at", TZ, nullable=False),
    CheckConstraint(
        "kind IN ('receipt', 'adjustment', 'reserve', 'release', 'deduct', 'restock')",
        name="kind",
    ),
    UniqueConstraint("kind", "reference"),  # NULL references never collide
    Index("ix_stock_movements_warehouse_id_sku", "warehouse_id", "sku"),
    Index("ix_stock_movements_order_id", "order_id"),
)

order_allocations = Table(
    "order_allocations",
    metadata,
    # One row per order inventory has heard of. Events of one order travel on several topics,
    # so they can arrive out of order: a cancellation seen first must stop a later reserve.
    # An exchange's replacement has its own row under its after-sale id (see reservations).
    Column("order_id", Uuid, primary_key=True),
    Column("state", Text, nullable=False),
    Column("as_of", TZ, nullable=False),  # the order version decided on (received/updated at)
    Column("created_at", TZ, nullable=False),
    Column("updated_at", TZ, nullable=False),
    CheckConstraint("state IN ('reserved', 'rejected', 'cancelled', 'shipped')", name="state"),
)
