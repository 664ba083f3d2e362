"""orders.platform_receiver: the receiver the platform gives, where the order's differs

Revision ID: or0006
Revises: or0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "or0006"
down_revision: str | None = "or0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("platform_receiver", JSONB))


def downgrade() -> None:
    op.drop_column("orders", "platform_receiver")
