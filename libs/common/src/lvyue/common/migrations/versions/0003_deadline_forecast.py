"""indexes the breach forecast reads: unclosed deadlines by SLA and due time, recent closes

Revision ID: k0003
Revises: k0002
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "k0003"
down_revision: str | None = "k0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_deadlines_unclosed",
        "deadlines",
        ["sla", "due_at"],
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    op.create_index(
        "ix_deadlines_closed_at",
        "deadlines",
        ["closed_at"],
        postgresql_where=sa.text("closed_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_deadlines_closed_at", table_name="deadlines")
    op.drop_index("ix_deadlines_unclosed", table_name="deadlines")
