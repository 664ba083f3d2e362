"""Tracking-sync states and the job record the repository returns."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from lvyue.common.records import from_row
from lvyue.fulfilment.settings import PlatformApi
from lvyue.fulfilment.tracking.platforms import Adapters, TrackingPush

TRACKING_SLA = "tracking_sync"
NO_API = "no API configured for this platform"
_KNOWN = Adapters().names  # platforms with an adapter of their own, and lvyue's callback


def metric_label(platform: str, apis: Mapping[str, PlatformApi]) -> str:
    """The platform as a metric label; labels stay bounded: known or configured, else other."""
    configured = {key.split("/")[0] for key in apis}
    return platform if platform in _KNOWN or platform in configured else "other"


class SyncState(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SYNCED = "synced"
    FAILED = "failed"  # refused for good, or still failing after the give-up window
    SKIPPED = "skipped"  # no API configured for the platform: nothing was sent


class DispatchedShipment(Protocol):
    """What the dispatch hooks read from fulfilment's ShipmentRecord."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def order_id(self) -> uuid.UUID: ...
    @property
    def platform(self) -> str: ...
    @property
    def shop_id(self) -> str: ...
    @property
    def platform_order_id(self) -> str: ...
    @property
    def warehouse_id(self) -> str: ...
    @property
    def carrier_code(self) -> str | None: ...
    @property
    def tracking_number(self) -> str | None: ...
    @property
    def dispatched_at(self) -> datetime | None: ...
    @property
    def aftersale_id(self) -> uuid.UUID | None: ...


def push_of(shipment: DispatchedShipment) -> TrackingPush:
    """The tracking facts of a dispatched shipment; refuses one that is not dispatched."""
    carrier, number, at = shipment.carrier_code, shipment.tracking_number, shipment.dispatched_at
    if not carrier or not number or at is None:
        raise ValueError(f"shipment {shipment.id} has no dispatch recorded")
    return TrackingPush(
        shipment_id=shipment.id,
        order_id=shipment.order_id,
        platform=shipment.platform,
        shop_id=shipment.shop_id,
        platform_order_id=shipment.platform_order_id,
        carrier_code=carrier,
        tracking_number=number,
        dispatched_at=at,
    )


@dataclass(frozen=True)
class SyncJob:
    push: TrackingPush
    state: SyncState
    attempts: int
    next_attempt_at: datetime
    leased_until: datetime | None
    lease_token: uuid.UUID | None
    window_started_at: datetime | None
    last_attempt_at: datetime | None
    last_error: str | None
    last_status_code: int | None
    synced_at: datetime | None
    failed_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def shipment_id(self) -> uuid.UUID:
        return self.push.shipment_id

    @property
    def platform(self) -> str:
        return self.push.platform

    @classmethod
    def from_row(cls, row: Any) -> SyncJob:
        return from_row(cls, row, push=from_row(TrackingPush, row), state=SyncState(row.state))
