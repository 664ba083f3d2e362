"""Parcels on their way, their carrier scans, and the exceptions raised on them (fu0002)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Identity,
    Index,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)

from lvyue.common.tables import TZ
from lvyue.fulfilment.tables import metadata

SCAN_STATUSES = ("collected", "in_transit", "out_for_delivery", "delivered", "exception", "lost")
_STATUS_CHECK = "status IN (" + ", ".join(f"'{s}'" for s in SCAN_STATUSES) + ")"

parcels = Table(
    "parcels",
    metadata,
    Column("shipment_id", Uuid, primary_key=True),
    Column("order_id", Uuid, nullable=False),
    Column("warehouse_id", Text, nullable=False),
    Column("carrier_code", Text, nullable=False),
    Column("tracking_number", Text, nullable=False),
    Column("dispatched_at", TZ, nullable=False),
    Column("last_scan_at", TZ),
    Column("last_status", Text),
    # The latest scan, or the dispatch while there is none: the "no scan since" clock.
    Column("quiet_since", TZ, nullable=False),
    Column("delivered_at", TZ),
    Column("created_at", TZ, nullable=False),
    Column("updated_at", TZ, nullable=False),
    Index(
        "ix_parcels_in_transit_quiet_since",
        "quiet_since",
        postgresql_where=text("delivered_at IS NULL"),
    ),
)

tracking_events = Table(
    "tracking_events",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("shipment_id", Uuid, ForeignKey("parcels.shipment_id"), nullable=False),
    Column("at", TZ, nullable=False),
    Column("status", Text, nullable=False),
    Column("location", Text, nullable=False, server_default=""),
    Column("description", Text, nullable=False, server_default=""),
    Column("received_at", TZ, nullable=False),
    UniqueConstraint("shipment_id", "at", "status"),  # a carrier's repeat is recorded once
    CheckConstraint(_STATUS_CHECK, name="status"),
)

logistics_exceptions = Table(
    "logistics_exceptions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("shipment_id", Uuid, ForeignKey("parcels.shipment_id"), nullable=False),
    Column("kind", Text, nullable=False),
    Column("cause", Text, nullable=False),
    Column("last_scan_at", TZ),  # the parcel's latest scan when it was flagged
    Column("detected_at", TZ, nullable=False),
    Column("cleared_at", TZ),
    Column("resolution", Text),
    CheckConstraint("kind IN ('delayed', 'lost')", name="kind"),
    CheckConstraint("cause IN ('no_scan', 'carrier_lost')", name="cause"),
    CheckConstraint(
        "resolution IS NULL OR resolution IN ('scanned', 'delivered', 'escalated')",
        name="resolution",
    ),
    # One open exception per parcel and kind: flagged once; a new one after it clears.
    Index(
        "uq_logistics_exceptions_open_shipment_id_kind",
        "shipment_id",
        "kind",
        unique=True,
        postgresql_where=text("cleared_at IS NULL"),
    ),
    Index("ix_logistics_exceptions_kind_detected_at", "kind", "detected_at"),
)
