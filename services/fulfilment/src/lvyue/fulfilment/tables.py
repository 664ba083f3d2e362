"""Fulfilment's tables: shipments (one per reviewed order, plus one per exchange's replacement)
and the orders known to be cancelled.

Tracking sync and logistics exceptions add their own tables to this `metadata` in later
migrations (0002+, down_revision "fu0001").
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Index,
    Numeric,
    Table,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from lvyue.common.tables import TZ, service_metadata

metadata = service_metadata()

shipments = Table(
    "shipments",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("order_id", Uuid, nullable=False),
    Column("aftersale_id", Uuid),  # set on an exchange's replacement, null for the order's own
    Column("warehouse_id", Text, nullable=False),
    Column("platform", Text, nullable=False),
    Column("shop_id", Text, nullable=False),
    Column("platform_order_id", Text, nullable=False),
    Column("priority", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("lines", JSONB, nullable=False),  # [{"sku", "name", "quantity"}], as ordered
    Column("remarks", Text, nullable=False, server_default=""),
    Column("ready_at", TZ, nullable=False),  # reviewed_at: both SLA clocks start here
    Column("due_at", TZ, nullable=False),  # dispatch_1600: the warehouse's cut-off
    Column("outbound_due_at", TZ, nullable=False),  # outbound_24h
    Column("late_cost", Numeric(12, 2)),  # the platform's compensation if it leaves late
    Column("carrier_code", Text),
    Column("tracking_number", Text),
    Column("dispatched_at", TZ),  # when the parcel left, as the warehouse reports it
    Column("cancelled_at", TZ),
    Column("cancel_reason", Text),
    Column("created_at", TZ, nullable=False),
    Column("updated_at", TZ, nullable=False),
    # One shipment per order (order.reviewed twice is a no-op) and one per exchange.
    Index(
        "uq_shipments_order_id",
        "order_id",
        unique=True,
        postgresql_where=text("aftersale_id IS NULL"),
    ),
    Index(
        "uq_shipments_aftersale_id",
        "aftersale_id",
        unique=True,
        postgresql_where=text("aftersale_id IS NOT NULL"),
    ),
    CheckConstraint("status IN ('pending', 'dispatched', 'cancelled')", name="status"),
    CheckConstraint("priority IN ('urgent', 'promotion', 'normal')", name="priority"),
    CheckConstraint(
        "status <> 'dispatched' OR (carrier_code IS NOT NULL AND tracking_number IS NOT NULL "
        "AND dispatched_at IS NOT NULL)",
        name="dispatch_recorded",
    ),
    # The pick list: pending shipments of a warehouse by due time.
    Index(
        "ix_shipments_pending_warehouse_id_due_at",
        "warehouse_id",
        "due_at",
        postgresql_where=text("status = 'pending'"),
    ),
    Index("ix_shipments_status_warehouse_id", "status", "warehouse_id"),
)

cancelled_orders = Table(
    "cancelled_orders",
    metadata,
    # An order's events travel on several topics: order.cancelled may overtake order.reviewed.
    # Remembering the cancellation stops the late order.reviewed from requesting a shipment.
    Column("order_id", Uuid, primary_key=True),
    Column("reason", Text, nullable=False),
    Column("cancelled_at", TZ, nullable=False),
    Column("recorded_at", TZ, nullable=False),
)

receiver_changes = Table(
    "receiver_changes",
    metadata,
    # The buyer's latest receiver for an order, changed on the platform after review: a late
    # order.reviewed (another topic) then requests the shipment to it, not to the old one.
    Column("order_id", Uuid, primary_key=True),
    Column("receiver", JSONB, nullable=False),
    Column("changed_at", TZ, nullable=False),
    Column("recorded_at", TZ, nullable=False),
)
