"""webhook deliveries and platform notifications are pruned by age: indexes on received_at

Deliveries and notifications done with are deleted once older than
LVYUE_WEBHOOK_DELIVERY_RETENTION_DAYS, a batch at a time, the oldest first (jobs.py,
lvyue.common.retention); without the indexes each batch would read the whole table.

Revision ID: or0007
Revises: or0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from lvyue.common.migrate import create_index_concurrently, drop_index_concurrently

revision: str = "or0007"
down_revision: str | None = "or0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_index_concurrently(
        "ix_webhook_deliveries_received_at", "webhook_deliveries", ["received_at"]
    )
    create_index_concurrently(
        "ix_order_notifications_received_at", "order_notifications", ["received_at"]
    )


def downgrade() -> None:
    drop_index_concurrently("ix_order_notifications_received_at", "order_notifications")
    drop_index_concurrently("ix_webhook_deliveries_received_at", "webhook_deliveries")
