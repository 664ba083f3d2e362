"""one unclosed deadline per (sla, subject), where there was one open one

A deadline breached and not yet closed is a promise still outstanding. Until now the same
(sla, subject) could open a second deadline beside it, with a fresh due time that could breach
again, and the first was never closed. Such leftovers are closed at the time the next one
opened (each keeps its state, so its breach still counts), then a unique index takes the
new condition.

The old index stays: the previous release, serving while this migration runs, names it as
its conflict target. Until that release is gone, its replicas fail (and retry) an attempt to
open a deadline beside one breached and not closed: the case this migration ends.

Revision ID: k0007
Revises: k0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

from lvyue.common.migrate import create_index_concurrently, drop_index_concurrently

revision: str = "k0007"
down_revision: str | None = "k0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CLOSE_SUPERSEDED = """
WITH unclosed AS (
    SELECT id,
           lead(opened_at) OVER (PARTITION BY sla, subject ORDER BY opened_at, id) AS next_opened
    FROM deadlines
    WHERE closed_at IS NULL
)
UPDATE deadlines AS d
SET closed_at = unclosed.next_opened,
    state = CASE WHEN d.state = 'open' THEN 'cancelled' ELSE d.state END
FROM unclosed
WHERE d.id = unclosed.id AND unclosed.next_opened IS NOT NULL
"""


def upgrade() -> None:
    op.execute(_CLOSE_SUPERSEDED)
    create_index_concurrently(
        "uq_deadlines_unclosed_sla_subject",
        "deadlines",
        ["sla", "subject"],
        unique=True,
        where="closed_at IS NULL",
    )


def downgrade() -> None:
    drop_index_concurrently("uq_deadlines_unclosed_sla_subject", "deadlines")
