"""Response bodies of the tracking-sync operator API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from lvyue.common.openapi import examples, page_of
from lvyue.common.paging import Page
from lvyue.common.records import model_from
from lvyue.fulfilment.tracking.records import SyncJob, SyncState

_SYNC = {
    "shipment_id": "7d1c2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
    "order_id": "0b9e4c52-6c1e-4a53-9d35-2f4f2f7f6a10",
    "platform": "taobao",
    "shop_id": "tb-shop-001",
    "platform_order_id": "3914567281234567890",
    "carrier_code": "SF",
    "tracking_number": "SF1234567890",
    "dispatched_at": "2026-12-05T15:20:00+08:00",
    "state": "synced",
    "attempts": 1,
    "next_attempt_at": None,
    "window_started_at": "2026-12-05T15:20:02+08:00",
    "last_attempt_at": "2026-12-05T15:20:02+08:00",
    "last_status_code": 200,
    "last_error": None,
    "synced_at": "2026-12-05T15:20:02+08:00",
    "failed_at": None,
    "created_at": "2026-12-05T15:20:01+08:00",
    "updated_at": "2026-12-05T15:20:02+08:00",
}


class TrackingSyncRead(BaseModel):
    model_config = examples(_SYNC)

    shipment_id: uuid.UUID
    order_id: uuid.UUID
    platform: str
    shop_id: str
    platform_order_id: str
    carrier_code: str
    tracking_number: str
    dispatched_at: datetime
    state: SyncState
    attempts: int = Field(description="Calls made to the platform so far (kept on re-drive).")
    next_attempt_at: datetime | None = Field(description="When a pending sync is tried next.")
    window_started_at: datetime | None = Field(
        description="First attempt since enqueue or the last re-drive: the give-up window's start."
    )
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    synced_at: datetime | None
    failed_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, job: SyncJob) -> TrackingSyncRead:
        pending = job.state is SyncState.PENDING
        return model_from(
            cls, job.push, job, next_attempt_at=job.next_attempt_at if pending else None
        )


class TrackingSyncPage(Page[TrackingSyncRead]):
    model_config = examples(page_of(_SYNC))
