"""what a late dispatch costs the seller, per shipment (the pick list weighs it)

Revision ID: fu0004
Revises: fu0003
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "fu0004"
down_revision: str | None = "fu0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("shipments", sa.Column("late_cost", sa.Numeric(12, 2), nullable=True))


def downgrade() -> None:
    op.drop_column("shipments", "late_cost")
