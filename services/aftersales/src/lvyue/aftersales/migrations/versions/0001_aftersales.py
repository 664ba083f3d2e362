"""orders heard of, after-sale cases and their history, refunds, webhook deliveries, ledger weeks

Revision ID: as0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "as0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
MONEY = sa.Numeric(14, 2)


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("order_id", sa.Uuid, nullable=False),
        sa.Column("platform", sa.Text, nullable=True),
        sa.Column("shop_id", sa.Text, nullable=True),
        sa.Column("platform_order_id", sa.Text, nullable=True),
        sa.Column("receiver", JSONB, nullable=True),
        sa.Column("lines", JSONB, nullable=True),
        sa.Column("paid_total", MONEY, nullable=True),
        sa.Column("currency", sa.Text, nullable=True),
        sa.Column("warehouse_id", sa.Text, nullable=True),
        sa.Column("reviewed_at", TZ, nullable=True),
        sa.Column("shipped_at", TZ, nullable=True),
        sa.Column("shipped_lines", JSONB, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("order_id", name="pk_orders"),
        sa.UniqueConstraint(
            "platform",
            "shop_id",
            "platform_order_id",
            name="uq_orders_platform_shop_id_platform_order_id",
        ),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("order_id", sa.Uuid, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("description", sa.Text, server_default="", nullable=False),
        sa.Column("lines", JSONB, nullable=False),
        sa.Column("requested_amount", MONEY, nullable=True),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("platform", sa.Text, nullable=False),
        sa.Column("shop_id", sa.Text, nullable=False),
        sa.Column("platform_aftersale_id", sa.Text, nullable=True),
        sa.Column("idempotency_key", sa.Text, nullable=True),
        sa.Column("requested_at", TZ, nullable=False),
        sa.Column("decided_at", TZ, nullable=True),
        sa.Column("decided_by", sa.Text, nullable=True),
        sa.Column("decision_note", sa.Text, nullable=True),
        sa.Column("return_received_at", TZ, nullable=True),
        sa.Column("returned_lines", JSONB, nullable=True),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.ForeignKeyConstraint(["order_id"], ["orders.order_id"], name="fk_cases_order_id_orders"),
        sa.CheckConstraint(
            "type IN ('refund_only', 'return_and_refund', 'exchange')", name="ck_cases_type"
        ),
        sa.CheckConstraint(
            "state IN ('requested', 'rejected', 'awaiting_return', 'awaiting_refund', "
            "'refunded', 'completed')",
            name="ck_cases_state",
        ),
        sa.CheckConstraint("requested_amount > 0", name="ck_cases_requested_amount_positive"),
    )
    op.create_index("ix_cases_order_id", "cases", ["order_id"])
    op.create_index("ix_cases_state", "cases", ["state"])
    op.create_index("ix_cases_requested_at", "cases", ["requested_at"])
    op.create_index(
        "uq_cases_platform_case",
        "cases",
        ["platform", "shop_id", "platform_aftersale_id"],
        unique=True,
        postgresql_where=sa.text("platform_aftersale_id IS NOT NULL"),
    )
    op.create_index(
        "uq_cases_idempotency_key",
        "cases",
        ["idempotency_key"],
        unique=True,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.create_table(
        "case_history",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("note", sa.Text, server_default="", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_history"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_history_case_id_cases"),
    )
    op.create_index("ix_case_history_case_id", "case_history", ["case_id"])
    op.create_table(
        "refunds",
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("order_id", sa.Uuid, nullable=False),
        sa.Column("reference", sa.Text, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("refunded_at", TZ, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("case_id", name="pk_refunds"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_refunds_case_id_cases"),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.order_id"], name="fk_refunds_order_id_orders"
        ),
        sa.UniqueConstraint("reference", name="uq_refunds_reference"),
        sa.CheckConstraint("amount > 0", name="ck_refunds_amount_positive"),
    )
    op.create_index("ix_refunds_order_id", "refunds", ["order_id"])
    op.create_index("ix_refunds_refunded_at", "refunds", ["refunded_at"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("platform", sa.Text, nullable=False),
        sa.Column("delivery_id", sa.Text, nullable=False),
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("platform", "delivery_id", name="pk_webhook_deliveries"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_webhook_deliveries_case_id_cases"
        ),
    )
    op.create_table(
        "ledger_publications",
        sa.Column("week", sa.Text, nullable=False),
        sa.Column("published_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("week", name="pk_ledger_publications"),
    )


def downgrade() -> None:
    op.drop_table("ledger_publications")
    op.drop_table("webhook_deliveries")
    op.drop_table("refunds")
    op.drop_table("case_history")
    op.drop_table("cases")
    op.drop_table("orders")
