"""stock, reservations, stock movements, order allocations

Revision ID: inv0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "inv0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "stock",
        sa.Column("warehouse_id", sa.Text, nullable=False),
        sa.Column("sku", sa.Text, nullable=False),
        sa.Column("name", sa.Text, server_default="", nullable=False),
        sa.Column("on_hand", sa.Integer, server_default=sa.text("0"), nullable=False),
        sa.Column("reserved", sa.Integer, server_default=sa.text("0"), nullable=False),
        sa.Column("safety_threshold", sa.Integer, nullable=True),
        sa.Column("low_stock", sa.Boolean, server_default=sa.text("false"), nullable=False),
        sa.Column("last_sale_at", TZ, nullable=True),
        sa.Column("slow_moving_flagged_at", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("warehouse_id", "sku", name="pk_stock"),
        sa.CheckConstraint("on_hand >= 0", name="ck_stock_on_hand_not_negative"),
        sa.CheckConstraint("reserved >= 0", name="ck_stock_reserved_not_negative"),
        sa.CheckConstraint("reserved <= on_hand", name="ck_stock_reserved_within_on_hand"),
        sa.CheckConstraint("safety_threshold >= 0", name="ck_stock_safety_threshold_not_negative"),
    )
    op.create_index(
        "ix_stock_low_stock", "stock", ["warehouse_id"], postgresql_where=sa.text("low_stock")
    )
    op.create_table(
        "reservations",
        sa.Column("order_id", sa.Uuid, nullable=False),
        sa.Column("warehouse_id", sa.Text, nullable=False),
        sa.Column("sku", sa.Text, nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("order_id", "sku", name="pk_reservations"),
        sa.ForeignKeyConstraint(
            ["warehouse_id", "sku"],
            ["stock.warehouse_id", "stock.sku"],
            name="fk_reservations_warehouse_id_stock",
        ),
        sa.CheckConstraint("quantity > 0", name="ck_reservations_quantity_positive"),
        sa.CheckConstraint(
            "state IN ('reserved', 'released', 'deducted')", name="ck_reservations_state"
        ),
    )
    op.create_index("ix_reservations_warehouse_id_sku", "reservations", ["warehouse_id", "sku"])
    op.create_table(
        "stock_movements",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("warehouse_id", sa.Text, nullable=False),
        sa.Column("sku", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("on_hand_delta", sa.Integer, nullable=False),
        sa.Column("reserved_delta", sa.Integer, nullable=False),
        sa.Column("on_hand_after", sa.Integer, nullable=False),
        sa.Column("reserved_after", sa.Integer, nullable=False),
        sa.Column("order_id", sa.Uuid, nullable=True),
        sa.Column("reference", sa.Text, nullable=True),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("note", sa.Text, server_default="", nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stock_movements"),
        sa.CheckConstraint(
            "kind IN ('receipt', 'adjustment', 'reserve', 'release', 'deduct', 'restock')",
            name="ck_stock_movements_kind",
        ),
        sa.UniqueConstraint("kind", "reference", name="uq_stock_movements_kind_reference"),
    )
    op.create_index(
        "ix_stock_movements_warehouse_id_sku", "stock_movements", ["warehouse_id", "sku"]
    )
    op.create_index("ix_stock_movements_order_id", "stock_movements", ["order_id"])
    op.create_table(
        "order_allocations",
        sa.Column("order_id", sa.Uuid, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("as_of", TZ, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("order_id", name="pk_order_allocations"),
        sa.CheckConstraint(
            "state IN ('reserved', 'rejected', 'cancelled', 'shipped')",
            name="ck_order_allocations_state",
        ),
    )


def downgrade() -> None:
    op.drop_table("order_allocations")
    op.drop_table("stock_movements")
    op.drop_table("reservations")
    op.drop_table("stock")
