"""What the logistics repository returns: plain frozen records."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lvyue.common.records import from_row
from lvyue.fulfilment.logistics.rules import Cause, ExceptionKind, Resolution


@dataclass(frozen=True)
class Parcel:
    shipment_id: uuid.UUID
    order_id: uuid.UUID
    warehouse_id: str
    carrier_code: str
    tracking_number: str
    dispatched_at: datetime
    last_scan_at: datetime | None
    last_status: str | None
    quiet_since: datetime
    delivered_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> Parcel:
        return from_row(cls, row)


@dataclass(frozen=True)
class LogisticsException:
    id: uuid.UUID
    parcel: Parcel
    kind: ExceptionKind
    cause: Cause
    last_scan_at: datetime | None
    detected_at: datetime
    cleared_at: datetime | None
    resolution: Resolution | None
