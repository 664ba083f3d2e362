"""Aftersales' event handlers: it remembers reviewed orders, their receivers changed after
review and which of them shipped, completes exchanges whose replacement fulfilment dispatched,
and opens a case for an order a platform cancelled after its dispatch.

The consumer runner opens the unit of work, records the inbox and commits; handlers never do.
order.reviewed, order.receiver_changed and order.shipped travel on different topics and may
arrive in any order: each upsert sets only its own columns (a changed receiver wins over the
review's), so the result is the same either way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from lvyue.aftersales import repository
from lvyue.aftersales.commands import (
    CaseContext,
    RecordReplacementDispatch,
    record_replacement_dispatch,
)
from lvyue.aftersales.commands.platform_cancel import open_case_for_cancel
from lvyue.common.consumer import Subscription
from lvyue.common.events import Envelope
from lvyue.common.events.catalog import (
    AFTERSALE_REPLACEMENT_DISPATCHED,
    ORDER_CANCEL_AFTER_DISPATCH,
    ORDER_RECEIVER_CHANGED,
    ORDER_REVIEWED,
    ORDER_SHIPPED,
    CancelAfterDispatch,
    OrderReceiverChanged,
    OrderReviewed,
    OrderShipped,
    ReplacementDispatched,
)
from lvyue.common.uow import UnitOfWork


async def on_order_reviewed(event: Envelope, uow: UnitOfWork) -> None:
    """Remembers the order: platform ids, receiver, lines and what the buyer paid."""
    await on_orders_reviewed([event], uow)


async def on_orders_reviewed(events: Sequence[Envelope], uow: UnitOfWork) -> None:
    """on_order_reviewed for a poll's events at once; an order reviewed twice in one poll
    (corrected and reviewed again) is remembered in turn, the later review last."""
    reviewed = [_reviewed(event.payload(OrderReviewed)) for event in events]
    ids = [r.order_id for r in reviewed]
    runs = [reviewed] if len(set(ids)) == len(ids) else [[r] for r in reviewed]
    for run in runs:
        await repository.remember_reviewed(uow.session, run, at=uow.clock.now())


def _reviewed(event: OrderReviewed) -> repository.ReviewedOrder:
    return repository.ReviewedOrder(
        event.order_id, event.order, event.warehouse_id, event.reviewed_at
    )


async def on_order_receiver_changed(event: Envelope, uow: UnitOfWork) -> None:
    """The buyer's new receiver: an exchange's replacement goes there."""
    changed = event.payload(OrderReceiverChanged)
    await repository.remember_receiver(
        uow.session, order_id=changed.order_id, receiver=changed.receiver,
        changed_at=changed.changed_at, at=uow.clock.now(),
    )  # fmt: skip


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


async def on_replacement_dispatched(event: Envelope, uow: UnitOfWork) -> None:
    """An exchange's replacement left the warehouse: the exchange is completed (what does not
    fit a case waiting for its replacement is logged and skipped; see commands/replacement.py)."""
    dispatched = event.payload(ReplacementDispatched)
    cmd = RecordReplacementDispatch(
        case_id=dispatched.aftersale_id,
        shipment_id=dispatched.shipment_id,
        carrier=dispatched.carrier,
        tracking_number=dispatched.tracking_number,
        dispatched_at=dispatched.dispatched_at,
    )
    await record_replacement_dispatch(uow, cmd)


def cancel_after_dispatch(
    ctx: CaseContext,
) -> Callable[[Envelope, UnitOfWork], Awaitable[None]]:
    async def on_cancel_after_dispatch(event: Envelope, uow: UnitOfWork) -> None:
        """The platform cancelled a dispatched order: a return-and-refund case, once."""
        await open_case_for_cancel(event.payload(CancelAfterDispatch), uow, ctx)

    return on_cancel_after_dispatch


def subscriptions(ctx: CaseContext) -> list[Subscription]:
    return [
        Subscription(ORDER_REVIEWED, on_order_reviewed, batch_handler=on_orders_reviewed),
        Subscription(ORDER_SHIPPED, on_order_shipped),
        Subscription(ORDER_RECEIVER_CHANGED, on_order_receiver_changed),
        Subscription(AFTERSALE_REPLACEMENT_DISPATCHED, on_replacement_dispatched),
        Subscription(ORDER_CANCEL_AFTER_DISPATCH, cancel_after_dispatch(ctx)),
    ]
