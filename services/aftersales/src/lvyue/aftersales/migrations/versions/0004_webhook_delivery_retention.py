"""webhook deliveries are pruned by age: an index on received_at

The kernel deletes deliveries older than LVYUE_WEBHOOK_DELIVERY_RETENTION_DAYS, a batch at a
time, the oldest first (lvyue.common.retention); without the index each batch would read the
whole table.

Revision ID: as0004
Revises: as0003
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from lvyue.common.migrate import create_index_concurrently, drop_index_concurrently

revision: str = "as0004"
down_revision: str | None = "as0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_index_concurrently(
        "ix_webhook_deliveries_received_at", "webhook_deliveries", ["received_at"]
    )


def downgrade() -> None:
    drop_index_concurrently("ix_webhook_deliveries_received_at", "webhook_deliveries")
