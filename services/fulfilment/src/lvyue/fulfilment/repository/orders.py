"""SQL for orders as fulfilment sees them: the per-order lock, remembered cancellations and
receivers changed after review."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import null, select, union_all
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from lvyue.common.contracts.order import Receiver, accepted
from lvyue.common.locks import lock_keys
from lvyue.common.sql import any_of
from lvyue.fulfilment.tables import cancelled_orders, receiver_changes

_ORDER_LOCK_CLASS = 7240103  # advisory lock namespace: one fulfilment order at a time


async def lock_order(session: AsyncSession, order_id: uuid.UUID) -> None:
    """Serializes order.reviewed and order.cancelled of one order across consumers and replicas."""
    await lock_orders(session, [order_id])


async def lock_orders(session: AsyncSession, order_ids: Iterable[uuid.UUID]) -> None:
    """lock_order for several orders in one statement."""
    await lock_keys(session, _ORDER_LOCK_CLASS, (str(order_id) for order_id in order_ids))


@dataclass(frozen=True)
class PlatformChanges:
    """What the platform changed about some orders before their shipment was requested."""

    cancelled: set[uuid.UUID]
    receivers: dict[uuid.UUID, Receiver]  # the latest receiver, changed after review


async def changes_among(session: AsyncSession, order_ids: Sequence[uuid.UUID]) -> PlatformChanges:
    """Which of these orders were cancelled, and which have a new receiver: one round trip."""
    ids = list(order_ids)
    co, rc = cancelled_orders, receiver_changes
    rows = await session.execute(
        union_all(
            select(co.c.order_id, null().label("receiver")).where(any_of(co.c.order_id, ids)),
            select(rc.c.order_id, rc.c.receiver).where(any_of(rc.c.order_id, ids)),
        )
    )
    found = PlatformChanges(set(), {})
    for order_id, receiver in rows:
        if receiver is None:  # a receiver change always has one
            found.cancelled.add(order_id)
        else:
            found.receivers[order_id] = Receiver.model_validate(receiver, context=accepted())
    return found


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


async def remember_receiver(
    session: AsyncSession, *, order_id: uuid.UUID, receiver: Receiver, changed_at: datetime,
    at: datetime,
) -> bool:  # fmt: skip
    """Records the order's new receiver; False if this change or a later one was recorded."""
    rc = receiver_changes
    values = {"receiver": receiver.model_dump(mode="json"), "changed_at": changed_at}
    statement = insert(rc).values(order_id=order_id, recorded_at=at, **values)
    result = await session.execute(
        statement.on_conflict_do_update(
            index_elements=["order_id"],
            set_={**values, "recorded_at": at},
            where=rc.c.changed_at < statement.excluded.changed_at,
        ).returning(rc.c.order_id)
    )
    return result.first() is not None
