"""Request and response bodies of the shipment API (XCreate in, XRead out)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from lvyue.common.contracts.text import FreeText, OneLine
from lvyue.common.deadlines.store import Deadline, DeadlineState
from lvyue.common.events.catalog import Priority
from lvyue.common.openapi import examples, page_of
from lvyue.common.paging import Page
from lvyue.fulfilment.commands.shipments import ShipmentView
from lvyue.fulfilment.domain import (
    SHIPMENT_SLAS,
    ReportedTime,
    ShipmentStatus,
    on_time,
    pick_reason,
)
from lvyue.fulfilment.repository import ShipmentRecord

_SHIPMENT = {
    "id": "7d1c2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
    "order_id": "0b9e4c52-6c1e-4a53-9d35-2f4f2f7f6a10",
    "aftersale_id": None,
    "warehouse_id": "WH-SH-01",
    "platform": "taobao",
    "shop_id": "tb-shop-001",
    "platform_order_id": "3914567281234567890",
    "priority": "promotion",
    "status": "pending",
    "lines": [{"sku": "TEA-LJ-250G", "name": "明前龙井 250g", "quantity": 2}],
    "remarks": "",
    "ready_at": "2026-12-05T09:41:12+08:00",
    "due_at": "2026-12-05T16:00:00+08:00",
    "outbound_due_at": "2026-12-06T09:41:12+08:00",
    "carrier_code": None,
    "tracking_number": None,
    "dispatched_at": None,
    "cancelled_at": None,
    "cancel_reason": None,
    "created_at": "2026-12-05T09:41:12+08:00",
    "updated_at": "2026-12-05T09:41:12+08:00",
    "late_cost": "16.80",
    "pick_reason": "promotion",
}
_DISPATCHED = {
    **_SHIPMENT,
    "status": "dispatched",
    "carrier_code": "SF",
    "tracking_number": "SF1234567890",
    "dispatched_at": "2026-12-05T15:20:00+08:00",
    "updated_at": "2026-12-05T15:20:01+08:00",
    "pick_reason": None,
    "deadlines": [
        {
            "sla": "dispatch_1600",
            "state": "met",
            "opened_at": "2026-12-05T09:41:12+08:00",
            "due_at": "2026-12-05T16:00:00+08:00",
            "closed_at": "2026-12-05T15:20:00+08:00",
            "breached_at": None,
        }
    ],
    "on_time": True,
}


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DispatchCreate(_In):
    model_config = examples(
        {
            "carrier_code": "SF",
            "tracking_number": "SF1234567890",
            "dispatched_at": "2026-12-05T15:20:00+08:00",
        }
    )

    """The warehouse's confirmation: the parcel left with this carrier under this number."""

    carrier_code: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32), OneLine
    ] = Field(description="Carrier code, e.g. SF, YTO, ZTO, JD.")
    tracking_number: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), OneLine
    ]
    dispatched_at: ReportedTime = Field(
        description="When the parcel left, with a UTC offset; not before the shipment was "
        "requested, nor after now (beyond LVYUE_DISPATCH_CLOCK_SKEW_S either way)."
    )


class CancelCreate(_In):
    model_config = examples({"reason": "买家取消，仓库未出库"})

    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), FreeText
    ]


class ShipmentLineRead(BaseModel):
    sku: str
    name: str | None
    quantity: int


class ShipmentRead(BaseModel):
    model_config = examples(_SHIPMENT)

    """A pick-list entry. No receiver data: the warehouse gets it with shipment.requested."""

    id: uuid.UUID
    order_id: uuid.UUID
    aftersale_id: uuid.UUID | None = Field(
        description="Set on an exchange's replacement (a second parcel of the order)."
    )
    warehouse_id: str
    platform: str
    shop_id: str
    platform_order_id: str
    priority: Priority
    status: ShipmentStatus
    lines: list[ShipmentLineRead]
    remarks: str
    ready_at: datetime
    due_at: datetime = Field(description="dispatch_1600: the warehouse's cut-off.")
    outbound_due_at: datetime = Field(description="outbound_24h: 24 h after ready.")
    carrier_code: str | None
    tracking_number: str | None
    dispatched_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    created_at: datetime
    updated_at: datetime
    late_cost: Decimal | None = Field(
        default=None,
        description="Yuan the platform makes the seller pay if it leaves late (null: unknown).",
    )
    pick_reason: str | None = Field(
        default=None, description="Why a pending shipment stands where it does on the pick list."
    )

    @classmethod
    def of(
        cls,
        shipment: ShipmentRecord,
        *,
        now: datetime | None = None,
        at_risk: timedelta | None = None,
    ) -> ShipmentRead:
        values = vars(shipment) | {"lines": [vars(ln) for ln in shipment.lines]}
        if now is not None and at_risk is not None and shipment.status is ShipmentStatus.PENDING:
            values["pick_reason"] = pick_reason(
                shipment.priority, shipment.due_at, shipment.late_cost, now=now, at_risk=at_risk
            )
        return cls.model_validate(values)


class DeadlineRead(BaseModel):
    sla: str
    state: DeadlineState
    opened_at: datetime
    due_at: datetime
    closed_at: datetime | None
    breached_at: datetime | None

    @classmethod
    def of(cls, deadline: Deadline) -> DeadlineRead:
        return cls.model_validate(vars(deadline))


class ShipmentDetail(ShipmentRead):
    model_config = examples(_DISPATCHED)

    deadlines: list[DeadlineRead]
    on_time: bool | None = Field(
        description="Dispatched with both outbound_24h and dispatch_1600 met; null before."
    )

    @classmethod
    def of_view(cls, view: ShipmentView) -> ShipmentDetail:
        shipment = view.shipment
        ours = [d for d in view.deadlines if d.sla in SHIPMENT_SLAS]
        return cls(
            **ShipmentRead.of(shipment).model_dump(),
            deadlines=[DeadlineRead.of(d) for d in view.deadlines],
            on_time=on_time(ours) if shipment.status is ShipmentStatus.DISPATCHED else None,
        )


class ShipmentPage(Page[ShipmentRead]):
    model_config = examples(page_of(_SHIPMENT))
