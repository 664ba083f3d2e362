"""SQL for what holds stock: the per-holder lock, reservations, allocations.

A holder is an order, or an exchange's replacement held under its after-sale id (the tables
call the column `order_id`; see tables.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from lvyue.common.locks import lock_keys
from lvyue.common.sql import any_of
from lvyue.inventory.domain import AllocationState, ReservationState
from lvyue.inventory.repository.records import AllocationRecord, Reservation, StockKey
from lvyue.inventory.tables import order_allocations, reservations

_ORDER_LOCK_CLASS = 7240102  # advisory lock namespace: one inventory holder at a time


async def lock_holder(session: AsyncSession, holder: uuid.UUID) -> None:
    """Serializes work on one holder across replicas (a rebalance can hand it to two at once)."""
    await lock_holders(session, [holder])


async def lock_holders(session: AsyncSession, holders: Iterable[uuid.UUID]) -> None:
    """lock_holder for several holders in one statement."""
    await lock_keys(session, _ORDER_LOCK_CLASS, (str(holder) for holder in holders))


async def reservations_of(session: AsyncSession, holder: uuid.UUID) -> list[Reservation]:
    rows = await session.execute(
        select(reservations)
        .where(reservations.c.order_id == holder)
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
    session: AsyncSession,
    holders: Mapping[uuid.UUID, Mapping[StockKey, int]],
    *,
    at: datetime,
) -> None:
    """Reserves each holder's lines; a released row of the same holder and SKU is taken over
    (an updated order reserving again)."""
    rows = [
        {
            "order_id": holder,
            "warehouse_id": key[0],
            "sku": key[1],
            "quantity": quantity,
            "state": ReservationState.RESERVED,
            "created_at": at,
            "updated_at": at,
        }
        for holder, lines in holders.items()
        for key, quantity in sorted(lines.items())
    ]
    if rows:
        await session.execute(_UPSERT, rows)


async def set_reservation_state(
    session: AsyncSession,
    *,
    holder: uuid.UUID,
    skus: Sequence[str],
    state: ReservationState,
    at: datetime,
) -> None:
    await session.execute(
        update(reservations)
        .where(reservations.c.order_id == holder, any_of(reservations.c.sku, skus))
        .values(state=state, updated_at=at)
    )


async def get_allocation(session: AsyncSession, holder: uuid.UUID) -> AllocationRecord | None:
    return (await get_allocations(session, [holder])).get(holder)


async def get_allocations(
    session: AsyncSession, holders: Sequence[uuid.UUID]
) -> dict[uuid.UUID, AllocationRecord]:
    rows = await session.execute(
        select(order_allocations).where(any_of(order_allocations.c.order_id, holders))
    )
    return {
        row.order_id: AllocationRecord(row.order_id, AllocationState(row.state), row.as_of)
        for row in rows
    }


_INSERT_ALLOCATION = insert(order_allocations)
_SAVE_ALLOCATION = _INSERT_ALLOCATION.on_conflict_do_update(
    index_elements=["order_id"],
    set_={name: _INSERT_ALLOCATION.excluded[name] for name in ("state", "as_of", "updated_at")},
)


async def save_allocation(
    session: AsyncSession,
    *,
    holder: uuid.UUID,
    state: AllocationState,
    as_of: datetime,
    at: datetime,
) -> None:
    await save_allocations(session, [(holder, state, as_of)], at=at)


async def save_allocations(
    session: AsyncSession,
    decisions: Sequence[tuple[uuid.UUID, AllocationState, datetime]],
    *,
    at: datetime,
) -> None:
    """What inventory decided for each holder, and the version (as of) it decided on."""
    if decisions:
        await session.execute(
            _SAVE_ALLOCATION,
            [
                {"order_id": o, "state": st, "as_of": as_of, "created_at": at, "updated_at": at}
                for o, st, as_of in decisions
            ],
        )
