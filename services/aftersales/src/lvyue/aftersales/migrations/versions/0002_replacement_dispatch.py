"""exchanges wait for their replacement's dispatch: state awaiting_replacement, replacement columns

Revision ID: as0002
Revises: as0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "as0002"
down_revision: str | None = "as0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)

STATES_V1 = (
    "state IN ('requested', 'rejected', 'awaiting_return', 'awaiting_refund', "
    "'refunded', 'completed')"
)
STATES_V2 = (
    "state IN ('requested', 'rejected', 'awaiting_return', 'awaiting_refund', "
    "'refunded', 'awaiting_replacement', 'completed')"
)
REPLACEMENT_ALL_OR_NONE = (
    "num_nulls(replacement_shipment_id, replacement_carrier, replacement_tracking_number, "
    "replacement_dispatched_at) IN (0, 4)"
)
# as0001 named its CHECK constraints "ck_cases_state" inside a naming convention that
# prefixes "ck_<table>_" once more, so the database has "ck_cases_ck_cases_state". The widened
# constraint takes the name tables.py declares; op.f() keeps the convention off both names.
V1_STATE_NAME = "ck_cases_ck_cases_state"
V2_STATE_NAME = "ck_cases_state"


def upgrade() -> None:
    op.add_column("cases", sa.Column("replacement_shipment_id", sa.Uuid, nullable=True))
    op.add_column("cases", sa.Column("replacement_carrier", sa.Text, nullable=True))
    op.add_column("cases", sa.Column("replacement_tracking_number", sa.Text, nullable=True))
    op.add_column("cases", sa.Column("replacement_dispatched_at", TZ, nullable=True))
    op.create_check_constraint(
        op.f("ck_cases_replacement_all_or_none"), "cases", REPLACEMENT_ALL_OR_NONE
    )
    op.drop_constraint(op.f(V1_STATE_NAME), "cases", type_="check")
    op.create_check_constraint(op.f(V2_STATE_NAME), "cases", STATES_V2)
    # Exchanges completed before this revision keep `completed`: their replacement was
    # requested under the old rule, and nothing says whether it has been dispatched.


def downgrade() -> None:
    # v1 had no state between the return and completion: "returned, replacement requested"
    # was `completed` then. The history rows keep saying awaiting_replacement (no constraint);
    # the recorded replacements go with their columns: v1 has no place for them.
    op.execute("UPDATE cases SET state = 'completed' WHERE state = 'awaiting_replacement'")
    op.drop_constraint(op.f(V2_STATE_NAME), "cases", type_="check")
    op.create_check_constraint(op.f(V1_STATE_NAME), "cases", STATES_V1)
    op.drop_constraint(op.f("ck_cases_replacement_all_or_none"), "cases", type_="check")
    op.drop_column("cases", "replacement_dispatched_at")
    op.drop_column("cases", "replacement_tracking_number")
    op.drop_column("cases", "replacement_carrier")
    op.drop_column("cases", "replacement_shipment_id")
