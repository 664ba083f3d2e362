"""Logistics API: carriers' scans in, delayed and lost parcels out."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import Body, Depends, HTTPException, Query, status

from lvyue.common.app import UowFactoryDep
from lvyue.common.query import PagingDep
from lvyue.common.routing import api_router
from lvyue.common.security import GrantedRoles, Role, require_role
from lvyue.fulfilment.logistics import repository as repo
from lvyue.fulfilment.logistics.rules import ExceptionKind
from lvyue.fulfilment.logistics.scans import UnknownParcel, record_scans
from lvyue.fulfilment.logistics.schemas import (
    LogisticsExceptionPage,
    LogisticsExceptionRead,
    TrackingEventCreate,
    TrackingEventsRecorded,
)

Reporter = Annotated[GrantedRoles, Depends(require_role(Role.WAREHOUSE, Role.PLATFORM, Role.OPS))]
Reader = Annotated[GrantedRoles, Depends(require_role(Role.OPS, Role.SRE))]
Events = Annotated[list[TrackingEventCreate], Body(min_length=1, max_length=500)]
# Carriers' clocks drift a little; a scan far in the future would silence the no-scan watch.
CLOCK_SKEW = timedelta(minutes=10)

router = api_router(tags=["logistics"])


@router.post(
    "/shipments/{shipment_id}/tracking-events",
    response_model=TrackingEventsRecorded,
    responses={
        404: {"description": "no dispatched shipment with this id"},
        422: {"description": "malformed, or a scan time in the future"},
    },
)
async def post_tracking_events(
    shipment_id: uuid.UUID, events: Events, uow: UowFactoryDep, _: Reporter
) -> TrackingEventsRecorded:
    """Carrier scans of a dispatched parcel; a repeated (at, status) is recorded once."""
    unit = uow()
    latest = unit.clock.now() + CLOCK_SKEW
    future = [i for i, e in enumerate(events) if e.at > latest]
    if future:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [{"loc": ["body", i, "at"], "msg": "in the future"} for i in future],
        )
    try:
        result = await record_scans(unit, shipment_id, [e.to_scan() for e in events])
    except UnknownParcel:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no dispatched shipment") from None
    return TrackingEventsRecorded.of(result)


@router.get("/logistics-exceptions", response_model=LogisticsExceptionPage)
async def list_logistics_exceptions(
    uow: UowFactoryDep,
    _: Reader,
    paging: PagingDep,
    kind: ExceptionKind | None = None,
    state: Annotated[repo.ListState, Query(description="open (default), cleared or all")] = "open",
) -> LogisticsExceptionPage:
    """Delayed and lost parcels, newest first; by default only those still open."""
    async with uow() as unit:
        items, total = await repo.list_exceptions(
            unit.session, kind=kind, state=state, paging=paging
        )
    return LogisticsExceptionPage.of(map(LogisticsExceptionRead.of, items), total, paging)
