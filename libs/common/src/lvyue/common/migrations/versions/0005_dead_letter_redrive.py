"""dead letters remember their redrive: when, and by whom

A parked message is republished to its topic once its cause is fixed (POST
/dead-letters/{id}/redrive); the row keeps that it was, so a repeated request publishes nothing
more and the list can show what is still waiting.

Revision ID: k0005
Revises: k0004
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "k0005"
down_revision: str | None = "k0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("dead_letters", sa.Column("redriven_at", sa.DateTime(timezone=True)))
    op.add_column("dead_letters", sa.Column("redriven_by", sa.Text()))


def downgrade() -> None:
    op.drop_column("dead_letters", "redriven_by")
    op.drop_column("dead_letters", "redriven_at")
