"""SQL for orders as fulfilment sees them: the per-order lock and remembered cancellations."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from lvyue.common.locks import lock_keys
from lvyue.fulfilment.tables import cancelled_orders

_ORDER_LOCK_CLASS = 7240103  # advisory lock namespace: one fulfilment order at a time


async def lock_order(session: AsyncSession, order_id: uuid.UUID) -> None:
    """Serializes order.reviewed and order.cancelled of one order across consumers and replicas."""
    await lock_orders(session, [order_id])


async def lock_orders(session: AsyncSession, order_ids: Iterable[uuid.UUID]) -> None:
    """lock_order for several orders in one statement."""
    await lock_keys(session, _ORDER_LOCK_CLASS, (str(order_id) for order_id in order_ids))


async def is_cancelled(session: AsyncSession, order_id: uuid.UUID) -> bool:
    return order_id in await cancelled_among(session, [order_id])


async def cancelled_among(session: AsyncSession, order_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these orders were cancelled."""
    query = select(cancelled_orders.c.order_id).where(
        cancelled_orders.c.order_id.in_(list(order_ids))
    )
    return set((await session.execute(query)).scalars())


async def remember_cancelled(
    session: AsyncSession, *, order_id: uuid.UUID, reason: str, cancelled_at: datetime, at: datetime
) -> bool:
    """Records the cancellation; False if it was recorded before."""
    result = await session.execute(
        insert(cancelled_orders)
        .values(order_id=order_id, reason=reason, cancelled_at=cancelled_at, recorded_at=at)
        .on_conflict_do_nothing(index_elements=["order_id"])
        .returning(cancelled_orders.c.order_id)
    )
    return result.first() is not None
