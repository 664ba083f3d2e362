"""Inventory's HTTP API: SKUs and their stock, receipts and counts, the movement trail."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status

from lvyue.common.app import UowFactoryDep
from lvyue.common.openapi import problem_responses
from lvyue.common.query import FilterText, Limit, Offset
from lvyue.common.security import GrantedRoles, Role, require_role
from lvyue.inventory import repository
from lvyue.inventory.commands import (
    AdjustStock,
    ReceiveStock,
    RuleViolation,
    UnknownSku,
    UpsertSku,
    adjust_stock,
    receive_stock,
    upsert_sku,
)
from lvyue.inventory.domain import StockPolicy
from lvyue.inventory.schemas import (
    AdjustmentCreate,
    MovementPage,
    MovementRead,
    ReceiptCreate,
    SkuCreate,
    SkuPage,
    SkuRead,
)


async def get_policy(request: Request) -> StockPolicy:
    policy: StockPolicy = request.app.state.policy
    return policy


PolicyDep = Annotated[StockPolicy, Depends(get_policy)]
Writer = Annotated[GrantedRoles, Depends(require_role(Role.OPS, Role.WAREHOUSE))]
Reader = Annotated[GrantedRoles, Depends(require_role(Role.OPS, Role.WAREHOUSE, Role.SRE))]

router = APIRouter(tags=["inventory"])

_WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    200: {
        "model": MovementRead,
        "description": "a repeat of the same reference: the first movement, nothing applied",
    },
    **problem_responses(
        described={
            404: "the warehouse has no such SKU (create it with PUT /skus/...)",
            409: "a rule refuses it: detail says why, rule and field name the rule and the field",
        }
    ),
}


def _actor(roles: GrantedRoles) -> str:
    return "api:" + ",".join(sorted(roles))


def _refused(exc: RuleViolation | UnknownSku) -> HTTPException:
    if isinstance(exc, UnknownSku):
        return HTTPException(status.HTTP_404_NOT_FOUND, str(exc))
    return HTTPException(
        status.HTTP_409_CONFLICT, {"rule": exc.rule, "field": exc.field, "msg": str(exc)}
    )


@router.get("/skus", response_model=SkuPage)
async def list_skus(
    uow: UowFactoryDep,
    policy: PolicyDep,
    _: Reader,
    warehouse_id: FilterText = None,
    low_stock: bool | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> SkuPage:
    async with uow() as unit:
        rows, total = await repository.list_stock(
            unit.session, warehouse_id=warehouse_id, low_stock=low_stock, limit=limit, offset=offset
        )
    return SkuPage(
        items=[SkuRead.of(r, policy) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get("/skus/slow-moving", response_model=SkuPage)
async def list_slow_moving(
    uow: UowFactoryDep,
    policy: PolicyDep,
    _: Reader,
    warehouse_id: FilterText = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> SkuPage:
    """SKUs flagged for delisting or clearance: no sale for the configured number of days."""
    async with uow() as unit:
        rows, total = await repository.list_stock(
            unit.session,
            warehouse_id=warehouse_id,
            low_stock=None,
            slow_moving=True,
            limit=limit,
            offset=offset,
        )
    return SkuPage(
        items=[SkuRead.of(r, policy) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get("/skus/{warehouse_id}/{sku}", response_model=SkuRead, responses=problem_responses(404))
async def read_sku(
    warehouse_id: str, sku: str, uow: UowFactoryDep, policy: PolicyDep, _: Reader
) -> SkuRead:
    async with uow() as unit:
        row = await repository.get_stock(unit.session, warehouse_id, sku)
    if row is None:
        raise _refused(UnknownSku((warehouse_id, sku)))
    return SkuRead.of(row, policy)


@router.put(
    "/skus/{warehouse_id}/{sku}",
    response_model=SkuRead,
    status_code=status.HTTP_200_OK,
    responses={201: {"model": SkuRead, "description": "the SKU was created, with no stock"}},
)
async def put_sku(
    warehouse_id: str,
    sku: str,
    body: SkuCreate,
    response: Response,
    uow: UowFactoryDep,
    policy: PolicyDep,
    _: Writer,
) -> SkuRead:
    """Creates the SKU or sets its name and safety threshold; repeating it changes nothing."""
    cmd = UpsertSku(warehouse_id, sku, body.name, body.safety_threshold)
    row, created = await upsert_sku(cmd, uow(), policy)
    if created:
        response.status_code = status.HTTP_201_CREATED
    return SkuRead.of(row, policy)


@router.post(
    "/stock/receipts",
    response_model=MovementRead,
    status_code=status.HTTP_201_CREATED,
    responses=_WRITE_ERRORS,
)
async def post_receipt(
    body: ReceiptCreate, response: Response, uow: UowFactoryDep, policy: PolicyDep, roles: Writer
) -> MovementRead:
    """Goods received into a warehouse: on hand grows by `quantity`, once per reference."""
    cmd = ReceiveStock(body.warehouse_id, body.sku, body.quantity, body.reference, body.note)
    try:
        movement, applied = await receive_stock(cmd, uow(), policy, actor=_actor(roles))
    except (UnknownSku, RuleViolation) as exc:
        raise _refused(exc) from exc
    if not applied:
        response.status_code = status.HTTP_200_OK
    return MovementRead.of(movement)


@router.post(
    "/stock/adjustments",
    response_model=MovementRead,
    status_code=status.HTTP_201_CREATED,
    responses=_WRITE_ERRORS,
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
        movement, applied = await adjust_stock(cmd, uow(), policy, actor=_actor(roles))
    except (UnknownSku, RuleViolation) as exc:
        raise _refused(exc) from exc
    if not applied:
        response.status_code = status.HTTP_200_OK
    return MovementRead.of(movement)


@router.get("/stock/movements", response_model=MovementPage)
async def list_movements(
    uow: UowFactoryDep,
    _: Reader,
    sku: FilterText = None,
    warehouse_id: FilterText = None,
    order_id: uuid.UUID | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> MovementPage:
    """The audit trail of stock changes, newest first."""
    async with uow() as unit:
        movements, total = await repository.list_movements(
            unit.session,
            warehouse_id=warehouse_id,
            sku=sku,
            order_id=order_id,
            limit=limit,
            offset=offset,
        )
    return MovementPage(
        items=[MovementRead.of(m) for m in movements], total=total, limit=limit, offset=offset
    )
