"""tracking syncs, parcels, tracking events, logistics exceptions

Revision ID: fu0002
Revises: fu0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "fu0002"
down_revision: str | None = "fu0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
SCAN_STATUSES = "'collected', 'in_transit', 'out_for_delivery', 'delivered', 'exception', 'lost'"


def upgrade() -> None:
    op.create_table(
        "tracking_syncs",
        sa.Column("shipment_id", sa.Uuid, nullable=False),
        sa.Column("order_id", sa.Uuid, nullable=False),
        sa.Column("platform", sa.Text, nullable=False),
        sa.Column("shop_id", sa.Text, nullable=False),
        sa.Column("platform_order_id", sa.Text, nullable=False),
        sa.Column("carrier_code", sa.Text, nullable=False),
        sa.Column("tracking_number", sa.Text, nullable=False),
        sa.Column("dispatched_at", TZ, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", TZ, nullable=False),
        sa.Column("leased_until", TZ, nullable=True),
        sa.Column("lease_token", sa.Uuid, nullable=True),
        sa.Column("window_started_at", TZ, nullable=True),
        sa.Column("last_attempt_at", TZ, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("last_status_code", sa.Integer, nullable=True),
        sa.Column("synced_at", TZ, nullable=True),
        sa.Column("failed_at", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("shipment_id", name="pk_tracking_syncs"),
        sa.CheckConstraint(
            "state IN ('pending', 'synced', 'failed', 'skipped')", name="ck_tracking_syncs_state"
        ),
        sa.CheckConstraint("attempts >= 0", name="ck_tracking_syncs_attempts_not_negative"),
    )
    op.create_index(
        "ix_tracking_syncs_due",
        "tracking_syncs",
        ["next_attempt_at"],
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_index("ix_tracking_syncs_state_updated_at", "tracking_syncs", ["state", "updated_at"])
    op.create_table(
        "parcels",
        sa.Column("shipment_id", sa.Uuid, nullable=False),
        sa.Column("order_id", sa.Uuid, nullable=False),
        sa.Column("warehouse_id", sa.Text, nullable=False),
        sa.Column("carrier_code", sa.Text, nullable=False),
        sa.Column("tracking_number", sa.Text, nullable=False),
        sa.Column("dispatched_at", TZ, nullable=False),
        sa.Column("last_scan_at", TZ, nullable=True),
        sa.Column("last_status", sa.Text, nullable=True),
        sa.Column("quiet_since", TZ, nullable=False),
        sa.Column("delivered_at", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("shipment_id", name="pk_parcels"),
    )
    op.create_index(
        "ix_parcels_in_transit_quiet_since",
        "parcels",
        ["quiet_since"],
        postgresql_where=sa.text("delivered_at IS NULL"),
    )
    op.create_table(
        "tracking_events",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("shipment_id", sa.Uuid, nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("location", sa.Text, server_default="", nullable=False),
        sa.Column("description", sa.Text, server_default="", nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tracking_events"),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["parcels.shipment_id"],
            name="fk_tracking_events_shipment_id_parcels",
        ),
        sa.UniqueConstraint(
            "shipment_id", "at", "status", name="uq_tracking_events_shipment_id_at_status"
        ),
        sa.CheckConstraint(f"status IN ({SCAN_STATUSES})", name="ck_tracking_events_status"),
    )
    op.create_table(
        "logistics_exceptions",
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("shipment_id", sa.Uuid, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("cause", sa.Text, nullable=False),
        sa.Column("last_scan_at", TZ, nullable=True),
        sa.Column("detected_at", TZ, nullable=False),
        sa.Column("cleared_at", TZ, nullable=True),
        sa.Column("resolution", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_logistics_exceptions"),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["parcels.shipment_id"],
            name="fk_logistics_exceptions_shipment_id_parcels",
        ),
        sa.CheckConstraint("kind IN ('delayed', 'lost')", name="ck_logistics_exceptions_kind"),
        sa.CheckConstraint(
            "cause IN ('no_scan', 'carrier_lost')", name="ck_logistics_exceptions_cause"
        ),
        sa.CheckConstraint(
            "resolution IS NULL OR resolution IN ('scanned', 'delivered', 'escalated')",
            name="ck_logistics_exceptions_resolution",
        ),
    )
    op.create_index(
        "uq_logistics_exceptions_open_shipment_id_kind",
        "logistics_exceptions",
        ["shipment_id", "kind"],
        unique=True,
        postgresql_where=sa.text("cleared_at IS NULL"),
    )
    op.create_index(
        "ix_logistics_exceptions_kind_detected_at",
        "logistics_exceptions",
        ["kind", "detected_at"],
    )


def downgrade() -> None:
    op.drop_table("logistics_exceptions")
    op.drop_table("tracking_events")
    op.drop_index("ix_parcels_in_transit_quiet_since", table_name="parcels")
    op.drop_table("parcels")
    op.drop_table("tracking_syncs")
