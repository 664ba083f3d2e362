"""Inventory's stock routes: receipts, counts (adjustments) and the movement trail."""

from __future__ import annotations

import uuid

from fastapi import Response, status

from lvyue.common.app import UowFactoryDep
from lvyue.common.query import FilterText, PagingDep
from lvyue.common.routing import api_router
from lvyue.inventory import repository
from lvyue.inventory.api.deps import PolicyDep, Reader, Writer, actor
from lvyue.inventory.api.errors import WRITE_ERRORS, refused
from lvyue.inventory.api.schemas import AdjustmentCreate, MovementPage, MovementRead, ReceiptCreate
from lvyue.inventory.commands import (
    AdjustStock,
    ReceiveStock,
    RuleViolation,
    UnknownSku,
    adjust_stock,
    receive_stock,
)

router = api_router(tags=["inventory"])


@router.post(
    "/stock/receipts",
    response_model=MovementRead,
    status_code=status.HTTP_201_CREATED,
    responses=WRITE_ERRORS,
)
async def post_receipt(
    body: ReceiptCreate, response: Response, uow: UowFactoryDep, policy: PolicyDep, roles: Writer
) -> MovementRead:
    """Goods received into a warehouse: on hand grows by `quantity`, once per reference."""
    cmd = ReceiveStock(body.warehouse_id, body.sku, body.quantity, body.reference, body.note)
    try:
        movement, applied = await receive_stock(cmd, uow(), policy, actor=actor(roles))
    except (UnknownSku, RuleViolation) as exc:
        raise refused(exc) from exc
    if not applied:
        response.status_code = status.HTTP_200_OK
    return MovementRead.of(movement)


@router.post(
    "/stock/adjustments",
    response_model=MovementRead,
    status_code=status.HTTP_201_CREATED,
    responses=WRITE_ERRORS,
)
async def post_adjustment(
    body: AdjustmentCreate,
    response: Response,
    uow: UowFactoryDep,
    policy: PolicyDep,
    roles: Writer,
) -> MovementRead:
    """A stock count: on hand is set to `counted_on_hand`, never below the units reserved."""
    cmd = AdjustStock(
        body.warehouse_id, body.sku, body.counted_on_hand, body.reference, body.reason
    )
    try:
        movement, applied = await adjust_stock(cmd, uow(), policy, actor=actor(roles))
    except (UnknownSku, RuleViolation) as exc:
        raise refused(exc) from exc
    if not applied:
        response.status_code = status.HTTP_200_OK
    return MovementRead.of(movement)


@router.get("/stock/movements", response_model=MovementPage)
async def list_movements(
    uow: UowFactoryDep,
    _: Reader,
    paging: PagingDep,
    sku: FilterText = None,
    warehouse_id: FilterText = None,
    order_id: uuid.UUID | None = None,
) -> MovementPage:
    """The audit trail of stock changes, newest first."""
    async with uow() as unit:
        movements, total = await repository.list_movements(
            unit.session,
            warehouse_id=warehouse_id,
            sku=sku,
            order_id=order_id,
            paging=paging,
        )
    return MovementPage.of(map(MovementRead.of, movements), total, paging)
