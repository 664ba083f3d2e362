"""order pulls keep each shop's last notification: the deliveries that told it are pruned

A shop's latest webhook or notification was read from webhook_deliveries and
order_notifications, which are pruned after LVYUE_WEBHOOK_DELIVERY_RETENTION_DAYS: a shop
silent for longer would show no notification at all. order_pulls now keeps the time, and how
far the deliveries were read for it, so each round reads only what arrived since.

Revision ID: or0008
Revises: or0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "or0008"
down_revision: str | None = "or0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("order_pulls", sa.Column("last_notification_at", sa.DateTime(timezone=True)))
    op.add_column("order_pulls", sa.Column("notifications_read_to", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("order_pulls", "notifications_read_to")
    op.drop_column("order_pulls", "last_notification_at")
