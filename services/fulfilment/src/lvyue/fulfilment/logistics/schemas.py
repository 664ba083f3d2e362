"""Request and response bodies of the logistics API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from lvyue.common.contracts.text import FreeText, OneLine
from lvyue.common.openapi import examples, page_of
from lvyue.common.paging import Page
from lvyue.common.records import model_from
from lvyue.fulfilment.domain import ReportedTime
from lvyue.fulfilment.logistics.records import LogisticsException
from lvyue.fulfilment.logistics.rules import Cause, ExceptionKind, Resolution, ScanStatus
from lvyue.fulfilment.logistics.scans import Scan, ScansRecorded


class TrackingEventCreate(BaseModel):
    """One carrier scan; repeating the same (at, status) for a shipment records nothing new."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "at": "2026-12-05T18:02:00+08:00",
                    "status": "in_transit",
                    "location": "杭州转运中心",
                    "description": "快件已到达杭州转运中心",
                }
            ]
        },
    )

    at: ReportedTime = Field(description="When the carrier scanned, with a UTC offset.")
    status: ScanStatus
    location: Annotated[str, StringConstraints(strip_whitespace=True, max_length=255), OneLine] = ""
    description: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=2000), FreeText
    ] = ""

    def to_scan(self) -> Scan:
        return Scan(self.at, self.status, self.location, self.description)


class TrackingEventsRecorded(BaseModel):
    model_config = examples(
        {"accepted": 2, "duplicates": 1, "delivered": False, "flagged": [], "cleared": ["delayed"]}
    )

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


_EXCEPTION = {
    "id": "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9",
    "kind": "delayed",
    "cause": "no_scan",
    "shipment_id": "7d1c2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
    "order_id": "0b9e4c52-6c1e-4a53-9d35-2f4f2f7f6a10",
    "warehouse_id": "WH-SH-01",
    "carrier_code": "SF",
    "tracking_number": "SF1234567890",
    "dispatched_at": "2026-12-05T15:20:00+08:00",
    "last_scan_at": "2026-12-05T18:02:00+08:00",
    "last_status": "in_transit",
    "detected_at": "2026-12-07T18:02:00+08:00",
    "cleared_at": None,
    "resolution": None,
}


class LogisticsExceptionRead(BaseModel):
    model_config = examples(_EXCEPTION)

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
        return model_from(cls, item.parcel, item)  # the parcel's scan fields, as it is now


class LogisticsExceptionPage(Page[LogisticsExceptionRead]):
    model_config = examples(page_of(_EXCEPTION))
