"""replay bookkeeping: outbox.first_sent_at and each consumer's subscribed topics

Revision ID: k0002
Revises: k0001
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "k0002"
down_revision: str | None = "k0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("first_sent_at", sa.DateTime(timezone=True)))
    op.create_table(
        "consumer_subscriptions",
        sa.Column("consumer", sa.Text, nullable=False),
        sa.Column("topic", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("consumer", "topic", name="pk_consumer_subscriptions"),
    )


def downgrade() -> None:
    op.drop_table("consumer_subscriptions")
    op.drop_column("outbox", "first_sent_at")
