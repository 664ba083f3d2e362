"""Request and response bodies of the logistics API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, StringConstraints

from lvyue.fulfilment.logistics.records import LogisticsException
from lvyue.fulfilment.logistics.rules import Cause, ExceptionKind, Resolution, ScanStatus
from lvyue.fulfilment.logistics.scans import Scan, ScansRecorded


class TrackingEventCreate(BaseModel):
    """One carrier scan; repeating the same (at, status) for a shipment records nothing new."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: AwareDatetime
    status: ScanStatus
    location: Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)] = ""
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""

    def to_scan(self) -> Scan:
        return Scan(self.at, self.status, self.location, self.description)


class TrackingEventsRecorded(BaseModel):
    accepted: int
    duplicates: int
    delivered: bool
    flagged: list[ExceptionKind]
    cleared: list[ExceptionKind]

    @classmethod
    def of(cls, result: ScansRecorded) -> TrackingEventsRecorded:
        return cls(
            accepted=result.accepted,
            duplicates=result.duplicates,
            delivered=result.delivered,
            flagged=list(result.flagged),
            cleared=list(result.cleared),
        )


class LogisticsExceptionRead(BaseModel):
    id: uuid.UUID
    kind: ExceptionKind
    cause: Cause
    shipment_id: uuid.UUID
    order_id: uuid.UUID
    warehouse_id: str
    carrier_code: str
    tracking_number: str
    dispatched_at: datetime
    last_scan_at: datetime | None
    last_status: str | None
    detected_at: datetime
    cleared_at: datetime | None
    resolution: Resolution | None

    @classmethod
    def of(cls, item: LogisticsException) -> LogisticsExceptionRead:
        parcel = item.parcel
        return cls(
            id=item.id,
            kind=item.kind,
            cause=item.cause,
            shipment_id=parcel.shipment_id,
            order_id=parcel.order_id,
            warehouse_id=parcel.warehouse_id,
            carrier_code=parcel.carrier_code,
            tracking_number=parcel.tracking_number,
            dispatched_at=parcel.dispatched_at,
            last_scan_at=parcel.last_scan_at,
            last_status=parcel.last_status,
            detected_at=item.detected_at,
            cleared_at=item.cleared_at,
            resolution=item.resolution,
        )


class LogisticsExceptionPage(BaseModel):
    items: list[LogisticsExceptionRead]
    total: int
    limit: int
    offset: int
