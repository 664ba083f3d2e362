"""Aftersales' event handlers: it remembers reviewed orders and which of them shipped.

The consumer runner opens the unit of work, records the inbox and commits; handlers never do.
The two events travel on different topics and may arrive in either order: each upsert sets
only its own columns, so the result is the same either way.
"""

from __future__ import annotations

from lvyue.aftersales import repository
from lvyue.common.consumer import Subscription
from lvyue.common.events import Envelope
from lvyue.common.events.catalog import ORDER_REVIEWED, ORDER_SHIPPED, OrderReviewed, OrderShipped
from lvyue.common.uow import UnitOfWork


async def on_order_reviewed(event: Envelope, uow: UnitOfWork) -> None:
    """Remembers the order: platform ids, receiver, lines and what the buyer paid."""
    reviewed = event.payload(OrderReviewed)
    await repository.remember_reviewed(
        uow.session,
        order_id=reviewed.order_id,
        order=reviewed.order,
        warehouse_id=reviewed.warehouse_id,
        reviewed_at=reviewed.reviewed_at,
        at=uow.clock.now(),
    )


async def on_order_shipped(event: Envelope, uow: UnitOfWork) -> None:
    """From now on the order takes after-sale cases; returns go back to this warehouse."""
    shipped = event.payload(OrderShipped)
    await repository.remember_shipped(
        uow.session,
        order_id=shipped.order_id,
        warehouse_id=shipped.warehouse_id,
        lines=shipped.lines,
        shipped_at=shipped.dispatched_at,
        at=uow.clock.now(),
    )


def subscriptions() -> list[Subscription]:
    return [
        Subscription(ORDER_REVIEWED, on_order_reviewed),
        Subscription(ORDER_SHIPPED, on_order_shipped),
    ]
