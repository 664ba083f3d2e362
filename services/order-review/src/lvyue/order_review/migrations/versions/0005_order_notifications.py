"""order notifications: what platforms pushed, kept until its order is fetched

Revision ID: or0005
Revises: or0004
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "or0005"
down_revision: str | None = "or0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_notifications",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("platform", sa.Text, nullable=False),
        sa.Column("message_id", sa.Text, nullable=False),
        sa.Column("shop_id", sa.Text, nullable=False),
        sa.Column("platform_order_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("done_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("platform", "message_id", name="uq_order_notifications_message"),
    )
    op.create_index(
        "ix_order_notifications_order",
        "order_notifications",
        ["platform", "shop_id", "platform_order_id"],
    )
    op.create_index(
        "ix_order_notifications_shop_received",
        "order_notifications",
        ["platform", "shop_id", "received_at"],
    )
    op.create_index(
        "ix_order_notifications_pending",
        "order_notifications",
        ["due_at"],
        postgresql_where=sa.text("done_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("order_notifications")
