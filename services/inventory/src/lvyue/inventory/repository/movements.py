"""SQL for the stock movement trail."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from lvyue.common.paging import Paging, equal, fetch_page, filtered
from lvyue.inventory.domain import MovementKind
from lvyue.inventory.repository.records import Movement, StockKey, movement_record
from lvyue.inventory.tables import stock_movements


async def insert_movement(
    session: AsyncSession,
    *,
    key: StockKey,
    kind: MovementKind,
    on_hand_delta: int,
    reserved_delta: int,
    on_hand_after: int,
    reserved_after: int,
    order_id: uuid.UUID | None,
    reference: str | None,
    actor: str,
    note: str,
    at: datetime,
) -> Movement | None:
    """The audit row of one change; None if (kind, reference) was recorded before."""
    result = await session.execute(
        insert(stock_movements)
        .values(
            warehouse_id=key[0],
            sku=key[1],
            kind=kind,
            on_hand_delta=on_hand_delta,
            reserved_delta=reserved_delta,
            on_hand_after=on_hand_after,
            reserved_after=reserved_after,
            order_id=order_id,
            reference=reference,
            actor=actor,
            note=note,
            at=at,
        )
        .on_conflict_do_nothing(index_elements=["kind", "reference"])
        .returning(*stock_movements.columns)
    )
    row = result.first()
    return None if row is None else movement_record(row)


_INSERT_MANY = insert(stock_movements)  # built once; executemany sends one multi-row INSERT


async def insert_movements(session: AsyncSession, movements: Sequence[Mapping[str, Any]]) -> None:
    """Audit rows of changes without a reference, in one statement."""
    if not movements:
        return
    assert all(m.get("reference") is None for m in movements), "referenced: insert_movement"
    await session.execute(_INSERT_MANY, list(movements))


async def movement_by_reference(
    session: AsyncSession, kind: MovementKind, reference: str
) -> Movement | None:
    row = (
        await session.execute(
            select(stock_movements).where(
                stock_movements.c.kind == kind, stock_movements.c.reference == reference
            )
        )
    ).first()
    return None if row is None else movement_record(row)


async def list_movements(
    session: AsyncSession,
    *,
    warehouse_id: str | None,
    sku: str | None,
    order_id: uuid.UUID | None,
    paging: Paging,
) -> tuple[list[Movement], int]:
    """Newest first, and how many match the filters in all."""
    m = stock_movements
    query = filtered(
        select(m),
        equal(m.c.warehouse_id, warehouse_id),
        equal(m.c.sku, sku),
        equal(m.c.order_id, order_id),
    )
    rows, total = await fetch_page(session, query, paging, m.c.id.desc())
    return [movement_record(r) for r in rows], total
