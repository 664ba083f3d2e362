"""Operator API for tracking syncs: see what is stuck, re-drive what failed."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, HTTPException, Response, status

from lvyue.common.app import UowFactoryDep
from lvyue.common.query import FilterText, PagingDep
from lvyue.common.routing import api_router
from lvyue.common.security import GrantedRoles, Role, require_role
from lvyue.fulfilment.tracking import repository as repo
from lvyue.fulfilment.tracking.commands import AlreadySynced, UnknownSync, redrive
from lvyue.fulfilment.tracking.records import SyncState
from lvyue.fulfilment.tracking.schemas import TrackingSyncPage, TrackingSyncRead

Ops = Annotated[GrantedRoles, Depends(require_role(Role.OPS))]

router = api_router(tags=["tracking sync"])


@router.get("/tracking-syncs", response_model=TrackingSyncPage)
async def list_tracking_syncs(
    uow: UowFactoryDep,
    _: Ops,
    paging: PagingDep,
    state: SyncState | None = None,
    platform: FilterText = None,
) -> TrackingSyncPage:
    """Tracking syncs, most recently changed first; `state=failed` is the work queue."""
    async with uow() as unit:
        jobs, total = await repo.list_jobs(
            unit.session, state=state, platform=platform, paging=paging
        )
    return TrackingSyncPage.of(map(TrackingSyncRead.of, jobs), total, paging)


@router.post(
    "/shipments/{shipment_id}/tracking-sync/retry",
    response_model=TrackingSyncRead,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        200: {"model": TrackingSyncRead, "description": "already pending: nothing changed"},
        404: {"description": "no tracking sync for this shipment"},
        409: {"description": "already synced: the platform has the tracking number"},
    },
)
async def retry_tracking_sync(
    shipment_id: uuid.UUID, response: Response, uow: UowFactoryDep, _: Ops
) -> TrackingSyncRead:
    """Re-drives a failed or skipped sync: pending, due now, a fresh give-up window."""
    try:
        job, changed = await redrive(uow(), shipment_id)
    except UnknownSync:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, "no tracking sync for this shipment"
        ) from None
    except AlreadySynced:
        raise HTTPException(status.HTTP_409_CONFLICT, "tracking sync already synced") from None
    if not changed:
        response.status_code = status.HTTP_200_OK
    return TrackingSyncRead.of(job)
