"""Fulfilment's shipment routes: the pick list, one shipment, dispatch confirmation, operator
cancel."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query

from lvyue.common.app import UowFactoryDep
from lvyue.common.query import FilterText, PagingDep
from lvyue.common.routing import api_router
from lvyue.fulfilment import repository
from lvyue.fulfilment.api.deps import ContextDep, Operator, Reader, WarehouseStaff
from lvyue.fulfilment.api.errors import CANCEL_ERRORS, DISPATCH_ERRORS, NOT_FOUND, refused
from lvyue.fulfilment.api.schemas import (
    CancelCreate,
    DispatchCreate,
    ShipmentDetail,
    ShipmentPage,
    ShipmentRead,
)
from lvyue.fulfilment.cancel import CancelShipment
from lvyue.fulfilment.commands.errors import InvalidDispatch, ShipmentConflict, ShipmentNotFound
from lvyue.fulfilment.commands.shipments import cancel_by_operator, confirm_dispatch, read_shipment
from lvyue.fulfilment.dispatch import DispatchShipment
from lvyue.fulfilment.domain import ShipmentStatus

router = api_router(tags=["fulfilment"])


@router.get("/shipments", response_model=ShipmentPage)
async def list_shipments(
    uow: UowFactoryDep,
    ctx: ContextDep,
    _: Reader,
    paging: PagingDep,
    warehouse_id: FilterText = None,
    shipment_status: Annotated[ShipmentStatus | None, Query(alias="status")] = None,
    order_id: uuid.UUID | None = None,
) -> ShipmentPage:
    """The pick list: urgent orders first; then those due within LVYUE_PICK_AT_RISK_S, the
    costliest to miss first (the platform's late-dispatch compensation); then promotion, then
    normal; within each, the earliest due first. Each pending entry says why it stands there."""
    async with uow() as unit:
        now = unit.clock.now()
        rows, total = await repository.list_shipments(
            unit.session,
            warehouse_id=warehouse_id,
            status=shipment_status,
            order_id=order_id,
            paging=paging,
            now=now,
            at_risk=ctx.pick_at_risk,
        )
    return ShipmentPage.of(
        [ShipmentRead.of(r, now=now, at_risk=ctx.pick_at_risk) for r in rows], total, paging
    )


@router.get("/shipments/{shipment_id}", response_model=ShipmentDetail, responses=NOT_FOUND)
async def get_shipment(shipment_id: uuid.UUID, uow: UowFactoryDep, _: Reader) -> ShipmentDetail:
    try:
        view = await read_shipment(uow(), shipment_id)
    except ShipmentNotFound as exc:
        raise refused(exc) from exc
    return ShipmentDetail.of_view(view)


@router.post(
    "/shipments/{shipment_id}/dispatch", response_model=ShipmentDetail, responses=DISPATCH_ERRORS
)
async def post_dispatch(
    shipment_id: uuid.UUID,
    body: DispatchCreate,
    uow: UowFactoryDep,
    ctx: ContextDep,
    _: WarehouseStaff,
) -> ShipmentDetail:
    """The parcel left: closes the deadlines and announces order.shipped; repeating it is safe."""
    cmd = DispatchShipment(shipment_id, body.carrier_code, body.tracking_number, body.dispatched_at)
    try:
        view = await confirm_dispatch(uow(), cmd, ctx.dispatch_hooks, skew=ctx.dispatch_clock_skew)
    except (ShipmentNotFound, ShipmentConflict, InvalidDispatch) as exc:
        raise refused(exc) from exc
    return ShipmentDetail.of_view(view)


@router.post(
    "/shipments/{shipment_id}/cancel", response_model=ShipmentDetail, responses=CANCEL_ERRORS
)
async def post_cancel(
    shipment_id: uuid.UUID, body: CancelCreate, uow: UowFactoryDep, _: Operator
) -> ShipmentDetail:
    """Stops a shipment not dispatched yet (orders are normally cancelled in order review)."""
    try:
        view = await cancel_by_operator(uow(), CancelShipment(shipment_id, body.reason))
    except (ShipmentNotFound, ShipmentConflict) as exc:
        raise refused(exc) from exc
    return ShipmentDetail.of_view(view)
