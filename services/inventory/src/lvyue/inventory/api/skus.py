"""Inventory's SKU routes: the stock per SKU, slow movers, creating and renaming a SKU."""

from __future__ import annotations

from fastapi import Response, status

from lvyue.common.app import UowFactoryDep
from lvyue.common.openapi import problem_responses
from lvyue.common.query import FilterText, PagingDep, SkuPath, WarehouseIdPath
from lvyue.common.routing import api_router
from lvyue.inventory import repository
from lvyue.inventory.api.deps import PolicyDep, Reader, Writer
from lvyue.inventory.api.errors import refused
from lvyue.inventory.api.schemas import SkuCreate, SkuPage, SkuRead
from lvyue.inventory.commands import UnknownSku, UpsertSku, upsert_sku

router = api_router(tags=["inventory"])


@router.get("/skus", response_model=SkuPage)
async def list_skus(
    uow: UowFactoryDep,
    policy: PolicyDep,
    _: Reader,
    paging: PagingDep,
    warehouse_id: FilterText = None,
    low_stock: bool | None = None,
) -> SkuPage:
    async with uow() as unit:
        rows, total = await repository.list_stock(
            unit.session, warehouse_id=warehouse_id, low_stock=low_stock, paging=paging
        )
    return SkuPage.of([SkuRead.of(r, policy) for r in rows], total, paging)


@router.get("/skus/slow-moving", response_model=SkuPage)
async def list_slow_moving(
    uow: UowFactoryDep,
    policy: PolicyDep,
    _: Reader,
    paging: PagingDep,
    warehouse_id: FilterText = None,
) -> SkuPage:
    """SKUs flagged for delisting or clearance: no sale for the configured number of days."""
    async with uow() as unit:
        rows, total = await repository.list_stock(
            unit.session,
            warehouse_id=warehouse_id,
            low_stock=None,
            slow_moving=True,
            paging=paging,
        )
    return SkuPage.of([SkuRead.of(r, policy) for r in rows], total, paging)


@router.get("/skus/{warehouse_id}/{sku}", response_model=SkuRead, responses=problem_responses(404))
async def read_sku(
    warehouse_id: WarehouseIdPath, sku: SkuPath, uow: UowFactoryDep, policy: PolicyDep, _: Reader
) -> SkuRead:
    async with uow() as unit:
        row = await repository.get_stock(unit.session, warehouse_id, sku)
    if row is None:
        raise refused(UnknownSku((warehouse_id, sku)))
    return SkuRead.of(row, policy)


@router.put(
    "/skus/{warehouse_id}/{sku}",
    response_model=SkuRead,
    status_code=status.HTTP_200_OK,
    responses={201: {"model": SkuRead, "description": "the SKU was created, with no stock"}},
)
async def put_sku(
    warehouse_id: WarehouseIdPath,
    sku: SkuPath,
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
