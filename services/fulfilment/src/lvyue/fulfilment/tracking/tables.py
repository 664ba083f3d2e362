"""Tracking-sync jobs: one row per dispatched shipment, with its retry state (migration fu0002)."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Index,
    Integer,
    Table,
    Text,
    Uuid,
    text,
)

from lvyue.common.tables import TZ
from lvyue.fulfilment.tables import metadata

tracking_syncs = Table(
    "tracking_syncs",
    metadata,
    Column("shipment_id", Uuid, primary_key=True),
    # A copy of what the platform needs: the worker never reads the shipments table.
    Column("order_id", Uuid, nullable=False),
    Column("platform", Text, nullable=False),
    Column("shop_id", Text, nullable=False),
    Column("platform_order_id", Text, nullable=False),
    Column("carrier_code", Text, nullable=False),
    Column("tracking_number", Text, nullable=False),
    Column("dispatched_at", TZ, nullable=False),
    Column("state", Text, nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", TZ, nullable=False),
    # A worker holds a job while its HTTP call runs; a crashed worker's lease just runs out.
    Column("leased_until", TZ),
    Column("lease_token", Uuid),
    Column("window_started_at", TZ),  # first attempt since enqueue or the last re-drive
    Column("last_attempt_at", TZ),
    Column("last_error", Text),
    Column("last_status_code", Integer),
    Column("synced_at", TZ),
    Column("failed_at", TZ),
    Column("created_at", TZ, nullable=False),
    Column("updated_at", TZ, nullable=False),
    CheckConstraint("state IN ('pending', 'synced', 'failed', 'skipped')", name="state"),
    CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    Index(
        "ix_tracking_syncs_due",
        "next_attempt_at",
        postgresql_where=text("state = 'pending'"),
    ),
    Index("ix_tracking_syncs_state_updated_at", "state", "updated_at"),
)
