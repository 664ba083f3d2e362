"""shipments and cancelled orders

Revision ID: fu0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "fu0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "shipments",
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("order_id", sa.Uuid, nullable=False),
        sa.Column("warehouse_id", sa.Text, nullable=False),
        sa.Column("platform", sa.Text, nullable=False),
        sa.Column("shop_id", sa.Text, nullable=False),
        sa.Column("platform_order_id", sa.Text, nullable=False),
        sa.Column("priority", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("lines", postgresql.JSONB, nullable=False),
        sa.Column("remarks", sa.Text, server_default="", nullable=False),
        sa.Column("ready_at", TZ, nullable=False),
        sa.Column("due_at", TZ, nullable=False),
        sa.Column("outbound_due_at", TZ, nullable=False),
        sa.Column("carrier_code", sa.Text, nullable=True),
        sa.Column("tracking_number", sa.Text, nullable=True),
        sa.Column("dispatched_at", TZ, nullable=True),
        sa.Column("cancelled_at", TZ, nullable=True),
        sa.Column("cancel_reason", sa.Text, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_shipments"),
        sa.UniqueConstraint("order_id", name="uq_shipments_order_id"),
        sa.CheckConstraint(
            "status IN ('pending', 'dispatched', 'cancelled')", name="ck_shipments_status"
        ),
        sa.CheckConstraint(
            "priority IN ('urgent', 'promotion', 'normal')", name="ck_shipments_priority"
        ),
        sa.CheckConstraint(
            "status <> 'dispatched' OR (carrier_code IS NOT NULL AND tracking_number IS NOT NULL "
            "AND dispatched_at IS NOT NULL)",
            name="ck_shipments_dispatch_recorded",
        ),
    )
    op.create_index(
        "ix_shipments_pending_warehouse_id_due_at",
        "shipments",
        ["warehouse_id", "due_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index("ix_shipments_status_warehouse_id", "shipments", ["status", "warehouse_id"])
    op.create_table(
        "cancelled_orders",
        sa.Column("order_id", sa.Uuid, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("cancelled_at", TZ, nullable=False),
        sa.Column("recorded_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("order_id", name="pk_cancelled_orders"),
    )


def downgrade() -> None:
    op.drop_table("cancelled_orders")
    op.drop_table("shipments")
