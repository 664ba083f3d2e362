"""Order-review's tables: orders, their status history, and the webhook deliveries received."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from lvyue.common.tables import service_metadata
from lvyue.common.webhooks.deliveries import webhook_deliveries as deliveries_table

metadata = service_metadata()

orders = Table(
    "orders",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("platform", Text, nullable=False),
    Column("shop_id", Text, nullable=False),
    Column("platform_order_id", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("urgent", Boolean, nullable=False),
    Column("promotion", Boolean, nullable=False),
    Column("paid_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("order", JSONB, nullable=False),  # the canonical order, as corrected by operators
    # The inventory outcome review waits for: null until inventory answered.
    Column("stock_status", Text),
    Column("stock", JSONB),
    Column("warehouse_id", Text),
    Column("findings", JSONB, nullable=False, server_default="[]"),  # why it is abnormal
    # Findings operators accepted (rules.acceptance.Acceptance as JSON), oldest first.
    Column("acceptances", JSONB, nullable=False, server_default="[]"),
    # The receiver the platform last gave, kept only where the order's differs from it (an
    # operator's correction, or a platform change review refused): a pull that reads the
    # order again compares against it, so a correction is never taken for the buyer's change.
    # Null: the order's receiver is the platform's.
    Column("platform_receiver", JSONB),
    UniqueConstraint("platform", "shop_id", "platform_order_id"),
    Index("ix_orders_status", "status"),
    Index("ix_orders_platform_shop_id", "platform", "shop_id"),
)

order_status_history = Table(
    "order_status_history",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("order_id", Uuid, ForeignKey("orders.id"), nullable=False, index=True),
    Column("status", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("details", JSONB, nullable=False, server_default="{}"),
)

webhook_deliveries = deliveries_table(metadata, made="order_id", made_table="orders")

customer_contacts = Table(
    "customer_contacts",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("order_id", Uuid, ForeignKey("orders.id"), nullable=False, index=True),
    Column("channel", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("actor", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

# Per shop whose orders are pulled (reconciliation): how far pulls have reached, and how they
# went. The watermark moves only in the transaction that committed the orders it covers.
order_pulls = Table(
    "order_pulls",
    metadata,
    Column("platform", Text, nullable=False),
    Column("shop_id", Text, nullable=False),
    Column("watermark", DateTime(timezone=True), nullable=False),
    Column("last_success_at", DateTime(timezone=True)),
    Column("last_attempt_at", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("failing_since", DateTime(timezone=True)),
    Column("pulled", BigInteger, nullable=False, server_default="0"),
    Column("reconciled", BigInteger, nullable=False, server_default="0"),
    # The shop's latest notification, kept past the pruning of the deliveries that told it, and
    # when deliveries were last read for it (the next read starts there, less an overlap).
    Column("last_notification_at", DateTime(timezone=True)),
    Column("notifications_read_to", DateTime(timezone=True)),
    PrimaryKeyConstraint("platform", "shop_id"),
)

# Notifications platforms pushed (抖店's messages: an order paid, cancelled, its address
# changed), each kept until its order has been fetched and taken; a repeat (the same message id)
# is stored once. Done ones go after LVYUE_WEBHOOK_DELIVERY_RETENTION_DAYS (jobs.py).
order_notifications = Table(
    "order_notifications",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("platform", Text, nullable=False),
    Column("message_id", Text, nullable=False),
    Column("shop_id", Text, nullable=False),
    Column("platform_order_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),  # the next fetch attempt
    Column("attempts", BigInteger, nullable=False, server_default="0"),
    Column("last_error", Text),
    Column("done_at", DateTime(timezone=True)),
    UniqueConstraint("platform", "message_id", name="uq_order_notifications_message"),
    Index("ix_order_notifications_order", "platform", "shop_id", "platform_order_id"),
    Index("ix_order_notifications_shop_received", "platform", "shop_id", "received_at"),
    Index("ix_order_notifications_received_at", "received_at"),  # pruned the oldest first
    Index(
        "ix_order_notifications_pending",
        "due_at",
        postgresql_where=text("done_at IS NULL"),
    ),
)
