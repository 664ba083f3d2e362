"""findings accepted by operators

Revision ID: or0003
Revises: or0002
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "or0003"
down_revision: str | None = "or0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "orders",
        sa.Column("acceptances", postgresql.JSONB, server_default="[]", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("orders", "acceptances")
