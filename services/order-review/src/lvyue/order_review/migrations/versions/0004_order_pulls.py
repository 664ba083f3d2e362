"""order pulls: per shop, how far reconciliation has read the platform's orders

Revision ID: or0004
Revises: or0003
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "or0004"
down_revision: str | None = "or0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_pulls",
        sa.Column("platform", sa.Text, nullable=False),
        sa.Column("shop_id", sa.Text, nullable=False),
        sa.Column("watermark", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_success_at", sa.DateTime(timezone=True)),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
        sa.Column("failing_since", sa.DateTime(timezone=True)),
        sa.Column("pulled", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("reconciled", sa.BigInteger, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("platform", "shop_id"),
    )


def downgrade() -> None:
    op.drop_table("order_pulls")
