"""SQL for orders as fulfilment sees them: the per-order lock and remembered cancellations."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from lvyue.fulfilment.tables import cancelled_orders

_ORDER_LOCK_CLASS = 7240103  # advisory lock namespace: one fulfilment order at a time


async def lock_order(session: AsyncSession, order_id: uuid.UUID) -> None:
    """Serializes order.reviewed and order.cancelled of one order across consumers and replicas."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:cls, hashtext(:order_id))"),
        {"cls": _ORDER_LOCK_CLASS, "order_id": str(order_id)},
    )


async def is_cancelled(session: AsyncSession, order_id: uuid.UUID) -> bool:
    query = select(cancelled_orders.c.order_id).where(cancelled_orders.c.order_id == order_id)
    return (await session.execute(query)).first() is not None


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
