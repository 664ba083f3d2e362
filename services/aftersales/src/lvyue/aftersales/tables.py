"""Aftersales' tables: the orders it has heard of, cases, their history, refunds, webhook
deliveries and the weeks whose ledger was published."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Identity,
    Index,
    Numeric,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from lvyue.common.tables import TZ, service_metadata
from lvyue.common.webhooks.deliveries import webhook_deliveries as deliveries_table

metadata = service_metadata()
MONEY = Numeric(14, 2)

orders = Table(
    "orders",
    metadata,
    # Filled from topics that may arrive in any order: order.reviewed brings the order
    # (platform ids, receiver, lines, paid total), order.shipped marks it dispatched,
    # order.receiver_changed brings the buyer's new receiver.
    Column("order_id", Uuid, primary_key=True),
    Column("platform", Text),
    Column("shop_id", Text),
    Column("platform_order_id", Text),
    Column("receiver", JSONB),
    Column("lines", JSONB),  # the canonical order lines
    Column("paid_total", MONEY),
    Column("currency", Text),
    Column("warehouse_id", Text),  # from review; order.shipped's warehouse wins
    Column("reviewed_at", TZ),
    Column("shipped_at", TZ),
    Column("shipped_lines", JSONB),
    # order.receiver_changed (after review: a replacement goes to the new receiver); set, the
    # receiver is no longer taken from order.reviewed, which may arrive after it
    Column("receiver_changed_at", TZ),
    Column("created_at", TZ, nullable=False),
    Column("updated_at", TZ, nullable=False),
    UniqueConstraint("platform", "shop_id", "platform_order_id"),
)

cases = Table(
    "cases",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("order_id", Uuid, ForeignKey("orders.order_id"), nullable=False),
    Column("type", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("lines", JSONB, nullable=False),  # [{sku, quantity, unit_price}]
    Column("requested_amount", MONEY),  # null for an exchange
    Column("state", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("platform", Text, nullable=False),
    Column("shop_id", Text, nullable=False),
    Column("platform_aftersale_id", Text),
    Column("idempotency_key", Text),
    Column("requested_at", TZ, nullable=False),
    Column("decided_at", TZ),
    Column("decided_by", Text),
    Column("decision_note", Text),  # approval note or the rejection reason
    Column("return_received_at", TZ),
    Column("returned_lines", JSONB),  # [{sku, quantity, sellable}]
    # An exchange's replacement, from fulfilment's aftersale.replacement_dispatched.
    Column("replacement_shipment_id", Uuid),
    Column("replacement_carrier", Text),
    Column("replacement_tracking_number", Text),
    Column("replacement_dispatched_at", TZ),
    Column("updated_at", TZ, nullable=False),
    CheckConstraint("type IN ('refund_only', 'return_and_refund', 'exchange')", name="type"),
    CheckConstraint(
        "state IN ('requested', 'rejected', 'awaiting_return', 'awaiting_refund', "
        "'refunded', 'awaiting_replacement', 'completed')",
        name="state",
    ),
    CheckConstraint(
        "num_nulls(replacement_shipment_id, replacement_carrier, replacement_tracking_number, "
        "replacement_dispatched_at) IN (0, 4)",
        name="replacement_all_or_none",
    ),
    CheckConstraint("requested_amount > 0", name="requested_amount_positive"),
    Index("ix_cases_order_id", "order_id"),
    Index("ix_cases_state", "state"),
    Index("ix_cases_requested_at", "requested_at"),
    Index(
        "uq_cases_platform_case",
        "platform",
        "shop_id",
        "platform_aftersale_id",
        unique=True,
        postgresql_where=text("platform_aftersale_id IS NOT NULL"),
    ),
    Index(
        "uq_cases_idempotency_key",
        "idempotency_key",
        unique=True,
        postgresql_where=text("idempotency_key IS NOT NULL"),
    ),
)

case_history = Table(
    "case_history",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("case_id", Uuid, ForeignKey("cases.id"), nullable=False, index=True),
    Column("state", Text, nullable=False),
    Column("at", TZ, nullable=False),
    Column("actor", Text, nullable=False),
    Column("note", Text, nullable=False, server_default=""),
)

refunds = Table(
    "refunds",
    metadata,
    Column("case_id", Uuid, ForeignKey("cases.id"), primary_key=True),  # one refund per case
    Column("order_id", Uuid, ForeignKey("orders.order_id"), nullable=False, index=True),
    Column("reference", Text, nullable=False, unique=True),  # the payment's refund reference
    Column("amount", MONEY, nullable=False),
    Column("currency", Text, nullable=False),
    Column("refunded_at", TZ, nullable=False, index=True),
    Column("actor", Text, nullable=False),
    CheckConstraint("amount > 0", name="amount_positive"),
)

webhook_deliveries = deliveries_table(metadata, made="case_id", made_table="cases")

ledger_publications = Table(
    "ledger_publications",
    metadata,
    # The primary key makes "publish week W" happen once, whatever the number of replicas.
    Column("week", Text, primary_key=True),
    Column("published_at", TZ, nullable=False),
)
