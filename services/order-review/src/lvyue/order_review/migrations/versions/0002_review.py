"""review state on orders, customer contacts

Revision ID: or0002
Revises: or0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "or0002"
down_revision: str | None = "or0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("stock_status", sa.Text))
    op.add_column("orders", sa.Column("stock", postgresql.JSONB))
    op.add_column("orders", sa.Column("warehouse_id", sa.Text))
    op.add_column(
        "orders",
        sa.Column("findings", postgresql.JSONB, server_default="[]", nullable=False),
    )
    op.create_index("ix_orders_platform_shop_id", "orders", ["platform", "shop_id"])
    op.create_table(
        "customer_contacts",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("order_id", sa.Uuid, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("note", sa.Text, server_default="", nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name="fk_customer_contacts_order_id_orders"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_customer_contacts"),
    )
    op.create_index("ix_customer_contacts_order_id", "customer_contacts", ["order_id"])


def downgrade() -> None:
    op.drop_table("customer_contacts")
    op.drop_index("ix_orders_platform_shop_id", "orders")
    op.drop_column("orders", "findings")
    op.drop_column("orders", "warehouse_id")
    op.drop_column("orders", "stock")
    op.drop_column("orders", "stock_status")
