"""Fulfilment's event handlers: one small function per consumed topic.

The consumer runner opens the unit of work, records the inbox and commits; handlers never do.
"""

from __future__ import annotations

from collections.abc import Sequence

from lvyue.common.consumer import BatchHandler, Handler, Subscription
from lvyue.common.events import Envelope
from lvyue.common.events.catalog import (
    AFTERSALE_REPLACEMENT_REQUESTED,
    ORDER_CANCELLED,
    ORDER_RECEIVER_CHANGED,
    ORDER_REVIEWED,
    WAREHOUSE_DISPATCHED,
    OrderCancelled,
    OrderReceiverChanged,
    OrderReviewed,
    ReplacementRequested,
    WarehouseDispatched,
)
from lvyue.common.uow import UnitOfWork
from lvyue.fulfilment.cancel import cancel_for_order
from lvyue.fulfilment.context import FulfilmentContext
from lvyue.fulfilment.dispatch import DispatchShipment, dispatch_shipment
from lvyue.fulfilment.receiver_change import change_receiver
from lvyue.fulfilment.replacement import request_replacement
from lvyue.fulfilment.request import request_shipment, request_shipments


def on_order_reviewed(ctx: FulfilmentContext) -> Handler:
    async def handle_order_reviewed(event: Envelope, uow: UnitOfWork) -> None:
        await request_shipment(uow, event.payload(OrderReviewed), ctx.policies, ctx.late_costs)

    return handle_order_reviewed


def on_orders_reviewed(ctx: FulfilmentContext) -> BatchHandler:
    async def handle_orders_reviewed(events: Sequence[Envelope], uow: UnitOfWork) -> None:
        await request_shipments(
            uow, [e.payload(OrderReviewed) for e in events], ctx.policies, ctx.late_costs
        )

    return handle_orders_reviewed


def on_replacement_requested(ctx: FulfilmentContext) -> Handler:
    async def handle_replacement_requested(event: Envelope, uow: UnitOfWork) -> None:
        requested = event.payload(ReplacementRequested)
        await request_replacement(uow, requested, ctx.policies, priority=ctx.replacement_priority)

    return handle_replacement_requested


async def on_order_cancelled(event: Envelope, uow: UnitOfWork) -> None:
    await cancel_for_order(uow, event.payload(OrderCancelled))


async def on_order_receiver_changed(event: Envelope, uow: UnitOfWork) -> None:
    await change_receiver(uow, event.payload(OrderReceiverChanged))


def on_warehouse_dispatched(ctx: FulfilmentContext) -> Handler:
    """The same command as POST /shipments/{id}/dispatch; a conflict is dead-lettered."""

    async def handle_warehouse_dispatched(event: Envelope, uow: UnitOfWork) -> None:
        confirmed = event.payload(WarehouseDispatched)
        cmd = DispatchShipment(
            shipment_id=confirmed.shipment_id,
            carrier_code=confirmed.carrier_code.strip(),
            tracking_number=confirmed.tracking_number.strip(),
            dispatched_at=confirmed.dispatched_at,
        )
        await dispatch_shipment(uow, cmd, ctx.dispatch_hooks, skew=ctx.dispatch_clock_skew)

    return handle_warehouse_dispatched


def subscriptions(ctx: FulfilmentContext) -> list[Subscription]:
    return [
        Subscription(ORDER_REVIEWED, on_order_reviewed(ctx), batch_handler=on_orders_reviewed(ctx)),
        Subscription(ORDER_CANCELLED, on_order_cancelled),
        Subscription(ORDER_RECEIVER_CHANGED, on_order_receiver_changed),
        Subscription(AFTERSALE_REPLACEMENT_REQUESTED, on_replacement_requested(ctx)),
        Subscription(WAREHOUSE_DISPATCHED, on_warehouse_dispatched(ctx)),
    ]
