"""SQL for shipments: creating, locking, state changes, the pick list and pending counts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from lvyue.common.events.catalog import Priority
from lvyue.common.paging import Paging, equal, fetch_page, filtered
from lvyue.common.sql import row_arrays, unnest_rows
from lvyue.fulfilment.domain import PICK_ORDER, ShipmentStatus
from lvyue.fulfilment.repository.records import (
    NewShipment,
    ShipmentRecord,
    lines_json,
    shipment_record,
)
from lvyue.fulfilment.tables import shipments

_PRIORITY_RANK = case(
    {p.value: rank for rank, p in enumerate(PICK_ORDER)},
    value=shipments.c.priority,
    else_=len(PICK_ORDER),
)


# Built once: one shipment per order, and one per exchange for its replacement.
_INSERT_FOR_ORDER = (
    insert(shipments)
    .on_conflict_do_nothing(index_elements=["order_id"], index_where=text("aftersale_id IS NULL"))
    .returning(*shipments.columns)
)
_INSERT_FOR_AFTERSALE = (
    insert(shipments)
    .on_conflict_do_nothing(
        index_elements=["aftersale_id"], index_where=text("aftersale_id IS NOT NULL")
    )
    .returning(*shipments.columns)
)

# Several orders' shipments in one statement, one text whatever their number.
_NEW_COLUMNS = [
    shipments.c[name]
    for name in (
        "id", "order_id", "aftersale_id", "warehouse_id", "platform", "shop_id",
        "platform_order_id", "priority", "status", "lines", "remarks", "ready_at", "due_at",
        "outbound_due_at", "late_cost", "created_at", "updated_at",
    )
]  # fmt: skip
_INSERT_ORDERS = (
    insert(shipments)
    .from_select(_NEW_COLUMNS, unnest_rows(_NEW_COLUMNS))
    .on_conflict_do_nothing(index_elements=["order_id"], index_where=text("aftersale_id IS NULL"))
    .returning(*shipments.columns)
)


def _values(new: NewShipment, at: datetime) -> dict[str, object]:
    return {
        "id": new.id,
        "order_id": new.order_id,
        "aftersale_id": new.aftersale_id,
        "warehouse_id": new.warehouse_id,
        "platform": new.platform,
        "shop_id": new.shop_id,
        "platform_order_id": new.platform_order_id,
        "priority": new.priority,
        "status": ShipmentStatus.PENDING,
        "lines": lines_json(new.lines),
        "remarks": new.remarks,
        "ready_at": new.ready_at,
        "due_at": new.due_at,
        "outbound_due_at": new.outbound_due_at,
        "late_cost": new.late_cost,
        "created_at": at,
        "updated_at": at,
    }


async def insert_shipment(
    session: AsyncSession, new: NewShipment, *, at: datetime
) -> ShipmentRecord | None:
    """Creates the shipment as pending; None if the order (or, for a replacement, the
    exchange) has one already."""
    result = await session.execute(
        _INSERT_FOR_ORDER if new.aftersale_id is None else _INSERT_FOR_AFTERSALE,
        _values(new, at),
    )
    row = result.first()
    return None if row is None else shipment_record(row)


async def insert_order_shipments(
    session: AsyncSession, news: Sequence[NewShipment], *, at: datetime
) -> list[ShipmentRecord]:
    """insert_shipment for several orders' own shipments in one statement; those created."""
    if not news:
        return []
    assert all(new.aftersale_id is None for new in news), "replacements: insert_shipment"
    rows = [_values(new, at) for new in news]
    result = await session.execute(_INSERT_ORDERS, row_arrays(_NEW_COLUMNS, rows))
    return [shipment_record(row) for row in result]


async def get_shipment(
    session: AsyncSession, shipment_id: uuid.UUID, *, for_update: bool = False
) -> ShipmentRecord | None:
    query = select(shipments).where(shipments.c.id == shipment_id)
    if for_update:
        query = query.with_for_update()
    row = (await session.execute(query)).first()
    return None if row is None else shipment_record(row)


async def shipment_for_order(
    session: AsyncSession, order_id: uuid.UUID, *, for_update: bool = False
) -> ShipmentRecord | None:
    """The order's own shipment (not an exchange's replacement)."""
    query = select(shipments).where(
        shipments.c.order_id == order_id, shipments.c.aftersale_id.is_(None)
    )
    if for_update:
        query = query.with_for_update()
    row = (await session.execute(query)).first()
    return None if row is None else shipment_record(row)


async def mark_dispatched(
    session: AsyncSession,
    shipment_id: uuid.UUID,
    *,
    carrier_code: str,
    tracking_number: str,
    dispatched_at: datetime,
    at: datetime,
) -> ShipmentRecord:
    return await _set(
        session, shipment_id, status=ShipmentStatus.DISPATCHED, carrier_code=carrier_code,
        tracking_number=tracking_number, dispatched_at=dispatched_at, updated_at=at,
    )  # fmt: skip


async def mark_cancelled(
    session: AsyncSession,
    shipment_id: uuid.UUID,
    *,
    reason: str,
    cancelled_at: datetime,
    at: datetime,
) -> ShipmentRecord:
    return await _set(
        session, shipment_id, status=ShipmentStatus.CANCELLED, cancelled_at=cancelled_at,
        cancel_reason=reason, updated_at=at,
    )  # fmt: skip


async def _set(session: AsyncSession, shipment_id: uuid.UUID, **values: object) -> ShipmentRecord:
    """The shipment with `values` set, as it now is."""
    statement = (
        update(shipments)
        .where(shipments.c.id == shipment_id)
        .values(**values)
        .returning(*shipments.columns)
    )
    return shipment_record((await session.execute(statement)).one())


async def list_shipments(
    session: AsyncSession,
    *,
    warehouse_id: str | None,
    status: ShipmentStatus | None,
    order_id: uuid.UUID | None = None,
    paging: Paging,
    now: datetime,
    at_risk: timedelta,
) -> tuple[list[ShipmentRecord], int]:
    """The pick list: urgent orders; then those due within `at_risk`, the costliest to miss
    first (what the platform makes the seller pay if late); then promotion, then normal;
    within each, the earliest due first."""
    query = filtered(
        select(shipments),
        equal(shipments.c.order_id, order_id),
        equal(shipments.c.warehouse_id, warehouse_id),
        equal(shipments.c.status, status),
    )
    rows, total = await fetch_page(session, query, paging, *_pick_order(now, at_risk))
    return [shipment_record(r) for r in rows], total


def _pick_order(now: datetime, at_risk: timedelta) -> tuple[ColumnElement[Any], ...]:
    """Urgent first; then at risk of missing the cut-off, the costliest first; then by
    priority and the earliest due."""
    return (
        case((shipments.c.priority == Priority.URGENT.value, 0), else_=1),
        case(
            (shipments.c.due_at <= now + at_risk, func.coalesce(shipments.c.late_cost, 0)),
            else_=-1,
        ).desc(),
        _PRIORITY_RANK,
        shipments.c.due_at,
        shipments.c.outbound_due_at,
        shipments.c.ready_at,
        shipments.c.id,
    )


async def count_pending_by_warehouse(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(shipments.c.warehouse_id, func.count())
        .where(shipments.c.status == ShipmentStatus.PENDING)
        .group_by(shipments.c.warehouse_id)
    )
    return {warehouse_id: int(count) for warehouse_id, count in rows}
