"""Inventory's event handlers: one small function per consumed event, wired to its topic.

The consumer runner opens the unit of work, records the inbox and commits; handlers never do.
An order's events come on several topics, so they may arrive out of order or twice under new
ids: each handler takes the order's lock and judges the event against its allocation.
An exchange's replacement is a holder of its own, keyed by its after-sale id, the same way.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime

import structlog

from lvyue.common.consumer import BatchHandler, Handler, Subscription
from lvyue.common.events import Envelope
from lvyue.common.events.catalog import (
    AFTERSALE_REPLACEMENT_DISPATCHED,
    AFTERSALE_REPLACEMENT_REQUESTED,
    AFTERSALE_RETURN_RECEIVED,
    ORDER_CANCELLED,
    ORDER_CREATED,
    ORDER_SHIPPED,
    ORDER_UPDATED,
    SHIPMENT_CANCELLED,
    OrderCancelled,
    OrderCreated,
    OrderShipped,
    OrderUpdated,
    ReplacementDispatched,
    ReplacementRequested,
    ReturnReceived,
    ShipmentCancelled,
)
from lvyue.common.uow import UnitOfWork
from lvyue.inventory import repository
from lvyue.inventory.domain import AllocationState, StockPolicy, requested_quantities
from lvyue.inventory.ledger import check_low_stock, latch_low_stock
from lvyue.inventory.repository import AllocationRecord
from lvyue.inventory.reservations import (
    ReserveRequest,
    deduct_order,
    release_order,
    reserve_order,
    reserve_orders,
    reserve_replacement,
    restock_return,
)

log = structlog.get_logger(__name__)

PolicyHandler = Callable[[Envelope, UnitOfWork, StockPolicy], Awaitable[None]]
PolicyBatchHandler = Callable[[Sequence[Envelope], UnitOfWork, StockPolicy], Awaitable[None]]
_FINAL = (AllocationState.CANCELLED, AllocationState.SHIPPED)


def _actor(event: Envelope) -> str:
    return f"event:{event.type}/{event.id}"


async def _save(
    uow: UnitOfWork, holder: uuid.UUID, state: AllocationState, as_of: datetime
) -> None:
    await repository.save_allocation(
        uow.session, holder=holder, state=state, as_of=as_of, at=uow.clock.now()
    )


async def on_order_created(event: Envelope, uow: UnitOfWork, policy: StockPolicy) -> None:
    """Reserves the order once; a redelivery or an order updated or cancelled first: no-op."""
    created = event.payload(OrderCreated)
    await repository.lock_holder(uow.session, created.order_id)
    known = await repository.get_allocation(uow.session, created.order_id)
    if known is not None:
        log.info("order_created_again", order_id=str(created.order_id), state=known.state)
        return
    reserved = await reserve_order(
        uow,
        order_id=created.order_id,
        warehouse=policy.default_warehouse_id,
        lines=requested_quantities((ln.sku, ln.quantity) for ln in created.order.lines),
        actor=_actor(event),
    )
    state = _outcome(reserved.ok)
    await _save(uow, created.order_id, state, created.received_at)
    await latch_low_stock(uow, policy, reserved.after)  # rows still locked: no second read


async def on_orders_created(
    events: Sequence[Envelope], uow: UnitOfWork, policy: StockPolicy
) -> None:
    """on_order_created for a poll's orders at once, in turn, in a fixed number of statements."""
    created = [(event, event.payload(OrderCreated)) for event in events]
    await repository.lock_holders(uow.session, (c.order_id for _, c in created))
    known = await repository.get_allocations(uow.session, [c.order_id for _, c in created])
    todo = _first_sightings(created, known)
    if not todo:
        return
    decisions, rows = await reserve_orders(
        uow, [request for _, request in todo], warehouse=policy.default_warehouse_id
    )
    outcomes = [
        (order.order_id, _outcome(decisions[order.order_id].ok), order.received_at)
        for order, _ in todo
    ]
    await repository.save_allocations(uow.session, outcomes, at=uow.clock.now())
    await latch_low_stock(uow, policy, rows)


def _first_sightings(
    created: Sequence[tuple[Envelope, OrderCreated]], known: Mapping[uuid.UUID, AllocationRecord]
) -> list[tuple[OrderCreated, ReserveRequest]]:
    """The orders to reserve: neither known before nor earlier in the same poll."""
    todo: list[tuple[OrderCreated, ReserveRequest]] = []
    taken: set[uuid.UUID] = set()  # a poll holds up to 500 events: no scan of `todo` each
    for event, order in created:
        if order.order_id in known or order.order_id in taken:
            state = known[order.order_id].state if order.order_id in known else None
            log.info("order_created_again", order_id=str(order.order_id), state=state)
            continue
        taken.add(order.order_id)
        lines = requested_quantities((ln.sku, ln.quantity) for ln in order.order.lines)
        todo.append((order, ReserveRequest(order.order_id, lines, _actor(event))))
    return todo


def _outcome(reserved: bool) -> AllocationState:
    return AllocationState.RESERVED if reserved else AllocationState.REJECTED


async def on_order_updated(event: Envelope, uow: UnitOfWork, policy: StockPolicy) -> None:
    """Releases what the order holds, then reserves its new lines, all or none."""
    updated = event.payload(OrderUpdated)
    await repository.lock_holder(uow.session, updated.order_id)
    known = await repository.get_allocation(uow.session, updated.order_id)
    if known is not None and (known.state in _FINAL or known.as_of >= updated.updated_at):
        log.info("order_update_ignored", order_id=str(updated.order_id), state=known.state)
        return
    held = await repository.reservations_of(uow.session, updated.order_id)
    warehouse = policy.default_warehouse_id
    lines = requested_quantities((ln.sku, ln.quantity) for ln in updated.order.lines)
    # Lock old and new rows together, in order: releasing first would lock out of order.
    await repository.lock_stock(
        uow.session, [r.key for r in held] + [(warehouse, sku) for sku in lines]
    )
    released = await release_order(uow, held, actor=_actor(event), note="order updated")
    reserved = await reserve_order(
        uow, order_id=updated.order_id, warehouse=warehouse, lines=lines, actor=_actor(event)
    )
    state = _outcome(reserved.ok)
    await _save(uow, updated.order_id, state, updated.updated_at)
    await check_low_stock(uow, policy, released + reserved.touched)


async def on_order_cancelled(event: Envelope, uow: UnitOfWork, policy: StockPolicy) -> None:
    """Releases the order's stock; remembered, so an order.created arriving later reserves none."""
    cancelled = event.payload(OrderCancelled)
    await repository.lock_holder(uow.session, cancelled.order_id)
    known = await repository.get_allocation(uow.session, cancelled.order_id)
    if known is not None and known.state is AllocationState.SHIPPED:
        log.warning("shipped_order_cancelled_ignored", order_id=str(cancelled.order_id))
        return
    held = await repository.reservations_of(uow.session, cancelled.order_id)
    note = f"order cancelled: {cancelled.reason}"
    touched = await release_order(uow, held, actor=_actor(event), note=note)
    as_of = known.as_of if known is not None else cancelled.cancelled_at
    await _save(uow, cancelled.order_id, AllocationState.CANCELLED, as_of)
    await check_low_stock(uow, policy, touched)


async def on_order_shipped(event: Envelope, uow: UnitOfWork, policy: StockPolicy) -> None:
    """The reserved units leave stock (a sale: it also ends a slow-moving streak)."""
    shipped = event.payload(OrderShipped)
    await repository.lock_holder(uow.session, shipped.order_id)
    held = await repository.reservations_of(uow.session, shipped.order_id)
    touched = await deduct_order(uow, held, sold_at=shipped.dispatched_at, actor=_actor(event))
    if not touched:
        log.warning("shipped_without_reservation", order_id=str(shipped.order_id))
    known = await repository.get_allocation(uow.session, shipped.order_id)
    as_of = known.as_of if known is not None else shipped.dispatched_at
    await _save(uow, shipped.order_id, AllocationState.SHIPPED, as_of)
    await check_low_stock(uow, policy, touched)


async def on_return_received(event: Envelope, uow: UnitOfWork, policy: StockPolicy) -> None:
    returned = event.payload(ReturnReceived)
    touched = await restock_return(
        uow,
        aftersale_id=returned.aftersale_id,
        order_id=returned.order_id,
        warehouse_id=returned.warehouse_id,
        lines=returned.lines,
        actor=_actor(event),
    )
    await check_low_stock(uow, policy, touched)


async def on_replacement_requested(event: Envelope, uow: UnitOfWork, policy: StockPolicy) -> None:
    """Holds an exchange's replacement in the event's warehouse, under the after-sale id.

    Once per case: a redelivery, or a request arriving after the replacement was dispatched
    (another topic, so no ordering between them), finds the case's allocation and does nothing.
    """
    requested = event.payload(ReplacementRequested)
    holder = requested.aftersale_id
    await repository.lock_holder(uow.session, holder)
    known = await repository.get_allocation(uow.session, holder)
    if known is not None:
        log.info("replacement_requested_again", aftersale_id=str(holder), state=known.state)
        return
    reserved = await reserve_replacement(
        uow,
        aftersale_id=holder,
        order_id=requested.order_id,
        warehouse=requested.warehouse_id,
        lines=requested_quantities((ln.sku, ln.quantity) for ln in requested.lines),
        actor=_actor(event),
    )
    state = _outcome(reserved.ok)
    await _save(uow, holder, state, requested.requested_at)
    await check_low_stock(uow, policy, reserved.touched)


async def on_replacement_dispatched(event: Envelope, uow: UnitOfWork, policy: StockPolicy) -> None:
    """The replacement left: what its case holds leaves stock (the order's own parcel did
    so on order.shipped). Remembered, so a late replacement_requested reserves nothing."""
    dispatched = event.payload(ReplacementDispatched)
    holder = dispatched.aftersale_id
    await repository.lock_holder(uow.session, holder)
    known = await repository.get_allocation(uow.session, holder)
    if known is not None and known.state is AllocationState.SHIPPED:
        log.info("replacement_dispatched_again", aftersale_id=str(holder))
        return
    held = await repository.reservations_of(uow.session, holder)
    touched = await deduct_order(
        uow,
        held,
        sold_at=dispatched.dispatched_at,
        actor=_actor(event),
        note=f"exchange replacement shipped for order {dispatched.order_id}, after-sale {holder}",
        order_id=dispatched.order_id,
    )
    if not touched:
        log.warning(
            "replacement_shipped_without_reservation",
            aftersale_id=str(holder),
            order_id=str(dispatched.order_id),
        )
    as_of = known.as_of if known is not None else dispatched.dispatched_at
    await _save(uow, holder, AllocationState.SHIPPED, as_of)
    await check_low_stock(uow, policy, touched)


async def on_shipment_cancelled(event: Envelope, uow: UnitOfWork, policy: StockPolicy) -> None:
    """A stopped replacement gives its units back. An order's own shipment is released by
    order.cancelled instead, so its shipment.cancelled changes nothing here."""
    cancelled = event.payload(ShipmentCancelled)
    holder = cancelled.aftersale_id
    if holder is None:
        return
    await repository.lock_holder(uow.session, holder)
    known = await repository.get_allocation(uow.session, holder)
    if known is not None and known.state in _FINAL:
        log.info("replacement_cancel_ignored", aftersale_id=str(holder), state=known.state)
        return
    held = await repository.reservations_of(uow.session, holder)
    note = f"exchange replacement cancelled ({cancelled.reason}), order {cancelled.order_id}"
    touched = await release_order(
        uow, held, actor=_actor(event), note=note, order_id=cancelled.order_id
    )
    as_of = known.as_of if known is not None else cancelled.cancelled_at
    await _save(uow, holder, AllocationState.CANCELLED, as_of)
    await check_low_stock(uow, policy, touched)


def _bind(handler: PolicyHandler, policy: StockPolicy) -> Handler:
    async def handle(event: Envelope, uow: UnitOfWork) -> None:
        await handler(event, uow, policy)

    handle.__name__ = handler.__name__
    return handle


def _bind_batch(handler: PolicyBatchHandler, policy: StockPolicy) -> BatchHandler:
    async def handle(events: Sequence[Envelope], uow: UnitOfWork) -> None:
        await handler(events, uow, policy)

    handle.__name__ = handler.__name__
    return handle


def subscriptions(policy: StockPolicy) -> list[Subscription]:
    return [
        Subscription(
            ORDER_CREATED,
            _bind(on_order_created, policy),
            batch_handler=_bind_batch(on_orders_created, policy),
        ),
        Subscription(ORDER_UPDATED, _bind(on_order_updated, policy)),
        Subscription(ORDER_CANCELLED, _bind(on_order_cancelled, policy)),
        Subscription(ORDER_SHIPPED, _bind(on_order_shipped, policy)),
        Subscription(AFTERSALE_RETURN_RECEIVED, _bind(on_return_received, policy)),
        Subscription(AFTERSALE_REPLACEMENT_REQUESTED, _bind(on_replacement_requested, policy)),
        Subscription(AFTERSALE_REPLACEMENT_DISPATCHED, _bind(on_replacement_dispatched, policy)),
        Subscription(SHIPMENT_CANCELLED, _bind(on_shipment_cancelled, policy)),
    ]
