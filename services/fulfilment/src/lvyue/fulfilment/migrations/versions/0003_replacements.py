"""replacement shipments: an exchange's second parcel for an order

Revision ID: fu0003
Revises: fu0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "fu0003"
down_revision: str | None = "fu0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("shipments", sa.Column("aftersale_id", sa.Uuid, nullable=True))
    # One shipment per order stays the rule for the order itself; each exchange adds one more.
    op.drop_constraint("uq_shipments_order_id", "shipments", type_="unique")
    op.create_index(
        "uq_shipments_order_id",
        "shipments",
        ["order_id"],
        unique=True,
        postgresql_where=sa.text("aftersale_id IS NULL"),
    )
    op.create_index(
        "uq_shipments_aftersale_id",
        "shipments",
        ["aftersale_id"],
        unique=True,
        postgresql_where=sa.text("aftersale_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_shipments_aftersale_id", table_name="shipments")
    op.drop_index("uq_shipments_order_id", table_name="shipments")
    # v2 had no place for a second parcel of an order: replacements cannot be kept.
    op.execute("DELETE FROM shipments WHERE aftersale_id IS NOT NULL")
    op.create_unique_constraint("uq_shipments_order_id", "shipments", ["order_id"])
    op.drop_column("shipments", "aftersale_id")
