"""the inbox is pruned by age: an index on processed_at

The kernel deletes inbox rows older than LVYUE_INBOX_RETENTION_DAYS, a batch at a time, the
oldest first (lvyue.common.retention); without the index each batch would read the whole table.

Revision ID: k0006
Revises: k0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from lvyue.common.migrate import create_index_concurrently, drop_index_concurrently

revision: str = "k0006"
down_revision: str | None = "k0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_index_concurrently("ix_inbox_processed_at", "inbox", ["processed_at"])


def downgrade() -> None:
    drop_index_concurrently("ix_inbox_processed_at", "inbox")
