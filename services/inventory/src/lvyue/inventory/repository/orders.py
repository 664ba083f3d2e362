"""SQL for orders as inventory sees them: the per-order lock, reservations, allocations."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from lvyue.inventory.domain import AllocationState, ReservationState
from lvyue.inventory.repository.records import Allocation, Reservation, StockKey
from lvyue.inventory.tables import order_allocations, reservations

_ORDER_LOCK_CLASS = 7240102  # advisory lock namespace: one inventory order at a time


async def lock_order(session: AsyncSession, order_id: uuid.UUID) -> None:
    """Serializes work on one order across replicas (a rebalance can hand it to two at once)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:cls, hashtext(:order_id))"),
        {"cls": _ORDER_LOCK_CLASS, "order_id": str(order_id)},
    )


async def order_reservations(session: AsyncSession, order_id: uuid.UUID) -> list[Reservation]:
    rows = await session.execute(
        select(reservations)
        .where(reservations.c.order_id == order_id)
        .order_by(reservations.c.warehouse_id, reservations.c.sku)
    )
    return [
        Reservation(r.order_id, r.warehouse_id, r.sku, r.quantity, ReservationState(r.state))
        for r in rows
    ]


_INSERT = insert(reservations)
# Built once; executemany sends one multi-row INSERT. An order reserving again (updated) takes
# over its released rows.
_UPSERT = _INSERT.on_conflict_do_update(
    index_elements=["order_id", "sku"],
    set_={
        "warehouse_id": _INSERT.excluded.warehouse_id,
        "quantity": _INSERT.excluded.quantity,
        "state": _INSERT.excluded.state,
        "updated_at": _INSERT.excluded.updated_at,
    },
)


async def upsert_reservations(
    session: AsyncSession, *, order_id: uuid.UUID, lines: Mapping[StockKey, int], at: datetime
) -> None:
    """Reserves again over a released row of the same order and SKU (an updated order)."""
    if not lines:
        return
    await session.execute(
        _UPSERT,
        [
            {
                "order_id": order_id,
                "warehouse_id": key[0],
                "sku": key[1],
                "quantity": quantity,
                "state": ReservationState.RESERVED,
                "created_at": at,
                "updated_at": at,
            }
            for key, quantity in sorted(lines.items())
        ],
    )


async def set_reservation_state(
    session: AsyncSession,
    *,
    order_id: uuid.UUID,
    skus: Sequence[str],
    state: ReservationState,
    at: datetime,
) -> None:
    await session.execute(
        update(reservations)
        .where(reservations.c.order_id == order_id, reservations.c.sku.in_(skus))
        .values(state=state, updated_at=at)
    )


async def get_allocation(session: AsyncSession, order_id: uuid.UUID) -> Allocation | None:
    row = (
        await session.execute(
            select(order_allocations).where(order_allocations.c.order_id == order_id)
        )
    ).first()
    return None if row is None else Allocation(row.order_id, AllocationState(row.state), row.as_of)


async def save_allocation(
    session: AsyncSession,
    *,
    order_id: uuid.UUID,
    state: AllocationState,
    as_of: datetime,
    at: datetime,
) -> None:
    statement = insert(order_allocations).values(
        order_id=order_id, state=state, as_of=as_of, created_at=at, updated_at=at
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["order_id"],
            set_={"state": state, "as_of": as_of, "updated_at": at},
        )
    )
