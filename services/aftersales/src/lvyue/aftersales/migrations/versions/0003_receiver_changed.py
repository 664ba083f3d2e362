"""orders remember when the buyer changed the receiver after review

Revision ID: as0003
Revises: as0002
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "as0003"
down_revision: str | None = "as0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("receiver_changed_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("orders", "receiver_changed_at")
