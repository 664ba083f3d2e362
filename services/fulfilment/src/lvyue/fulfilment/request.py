"""Rules outbound_24h, dispatch_1600, priority: a reviewed order becomes a shipment request.

`start_shipment` is the one way a shipment begins; exchanges' replacements use it too.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import structlog

from lvyue.common.contracts.order import OrderLine, Receiver
from lvyue.common.deadlines.store import DeadlineSpec, NewDeadline, open_deadlines, open_many
from lvyue.common.deadlines.warehouses import WarehousePolicies
from lvyue.common.events.catalog import SHIPMENT_REQUESTED, OrderReviewed, ShipmentRequested
from lvyue.common.uow import UnitOfWork
from lvyue.fulfilment import repository
from lvyue.fulfilment.domain import DISPATCH_SLA, OUTBOUND_SLA, LateCosts, late_cost
from lvyue.fulfilment.metrics import SHIPMENTS_REQUESTED
from lvyue.fulfilment.repository import NewShipment, ShipmentLine, ShipmentRecord

log = structlog.get_logger(__name__)


class MissingWarehouse(ValueError):
    """order.reviewed without a warehouse: nobody could ship it (the event is dead-lettered)."""


async def request_shipment(
    uow: UnitOfWork,
    reviewed: OrderReviewed,
    policies: WarehousePolicies,
    late_costs: LateCosts | None = None,
) -> ShipmentRecord | None:
    """Creates the shipment, opens both deadlines and asks the warehouse to ship, once per order.

    None when the order has a shipment already or was cancelled before it was reviewed.
    """
    if not reviewed.warehouse_id:
        raise MissingWarehouse(f"order.reviewed for {reviewed.order_id} names no warehouse")
    await repository.lock_order(uow.session, reviewed.order_id)
    changes = await repository.changes_among(uow.session, [reviewed.order_id])
    if reviewed.order_id in changes.cancelled:
        log.info("reviewed_after_cancellation_ignored", order_id=str(reviewed.order_id))
        return None
    shipment = await start_shipment(
        uow,
        _new_shipment(reviewed, policies, late_costs or {}),
        # a receiver the buyer changed after review, should its news have overtaken this event
        receiver=changes.receivers.get(reviewed.order_id, reviewed.order.receiver),
        lines=reviewed.order.lines,
    )
    if shipment is None:
        log.info("shipment_exists", order_id=str(reviewed.order_id))
    return shipment


async def request_shipments(
    uow: UnitOfWork,
    reviewed: Sequence[OrderReviewed],
    policies: WarehousePolicies,
    late_costs: LateCosts | None = None,
) -> None:
    """request_shipment for a poll's reviewed orders at once, in a fixed number of statements;
    an order reviewed twice in one poll is handled in turn instead, one event at a time."""
    ids = [r.order_id for r in reviewed]
    if len(set(ids)) < len(ids):
        for one in reviewed:
            await request_shipment(uow, one, policies, late_costs)
        return
    for one in reviewed:
        if not one.warehouse_id:
            raise MissingWarehouse(f"order.reviewed for {one.order_id} names no warehouse")
    await repository.lock_orders(uow.session, ids)
    changes = await repository.changes_among(uow.session, ids)
    wanted = _not_cancelled(reviewed, changes)
    created = {
        s.order_id: s
        for s in await repository.insert_order_shipments(
            uow.session,
            [_new_shipment(r, policies, late_costs or {}) for r in wanted],
            at=uow.clock.now(),
        )
    }
    await open_many(uow, [d for s in created.values() for d in _deadlines(s)])
    for one in wanted:
        shipment = created.get(one.order_id)
        if shipment is None:
            log.info("shipment_exists", order_id=str(one.order_id))
            continue
        receiver = changes.receivers.get(one.order_id, one.order.receiver)
        await _announce(uow, shipment, receiver=receiver, lines=one.order.lines)


def _not_cancelled(
    reviewed: Sequence[OrderReviewed], changes: repository.PlatformChanges
) -> list[OrderReviewed]:
    """The reviewed orders not cancelled before their review arrived."""
    for order_id in changes.cancelled:
        log.info("reviewed_after_cancellation_ignored", order_id=str(order_id))
    return [r for r in reviewed if r.order_id not in changes.cancelled]


def _deadlines(shipment: ShipmentRecord) -> list[NewDeadline]:
    """outbound_24h and dispatch_1600 of a new shipment, in its warehouse's queue."""
    due = ((OUTBOUND_SLA, shipment.outbound_due_at), (DISPATCH_SLA, shipment.due_at))
    return [
        NewDeadline(
            sla, shipment.deadline_subject, shipment.ready_at, due_at, shipment.warehouse_id
        )
        for sla, due_at in due
    ]


def _new_shipment(
    reviewed: OrderReviewed, policies: WarehousePolicies, late_costs: LateCosts
) -> NewShipment:
    due = policies.due_times(reviewed.warehouse_id, reviewed.reviewed_at)
    order = reviewed.order
    return NewShipment(
        id=uuid.uuid4(),
        order_id=reviewed.order_id,
        warehouse_id=reviewed.warehouse_id,
        platform=order.platform,
        shop_id=order.shop_id,
        platform_order_id=order.platform_order_id,
        priority=reviewed.priority,
        lines=tuple(ShipmentLine(ln.sku, ln.name, ln.quantity) for ln in order.lines),
        remarks=order.remarks,
        ready_at=reviewed.reviewed_at,
        due_at=due.dispatch_due_at,
        outbound_due_at=due.outbound_due_at,
        late_cost=late_cost(late_costs, order.platform, order.amounts.paid_total),
    )


async def start_shipment(
    uow: UnitOfWork, new: NewShipment, *, receiver: Receiver, lines: tuple[OrderLine, ...]
) -> ShipmentRecord | None:
    """Inserts the shipment, opens outbound_24h and dispatch_1600, emits shipment.requested.

    None when it exists already (its order's, or its exchange's): nothing is done twice.
    """
    shipment = await repository.insert_shipment(uow.session, new, at=uow.clock.now())
    if shipment is None:
        return None
    await open_deadlines(
        uow,
        subject=shipment.deadline_subject,
        opened_at=shipment.ready_at,
        specs=(
            DeadlineSpec(OUTBOUND_SLA, shipment.outbound_due_at, queue=shipment.warehouse_id),
            DeadlineSpec(DISPATCH_SLA, shipment.due_at, queue=shipment.warehouse_id),
        ),
    )
    await _announce(uow, shipment, receiver=receiver, lines=lines)
    return shipment


async def _announce(
    uow: UnitOfWork, shipment: ShipmentRecord, *, receiver: Receiver, lines: tuple[OrderLine, ...]
) -> None:
    """shipment.requested: the warehouse's order to pick, pack and ship."""
    await uow.emit(
        SHIPMENT_REQUESTED,
        ShipmentRequested(
            shipment_id=shipment.id,
            order_id=shipment.order_id,
            warehouse_id=shipment.warehouse_id,
            platform=shipment.platform,
            shop_id=shipment.shop_id,
            platform_order_id=shipment.platform_order_id,
            priority=shipment.priority,
            receiver=receiver,
            lines=lines,
            remarks=shipment.remarks,
            due_at=shipment.due_at,
            outbound_due_at=shipment.outbound_due_at,
            requested_at=uow.clock.now(),
            aftersale_id=shipment.aftersale_id,
        ),
        subject=shipment.subject,
    )
    uow.after_commit(SHIPMENTS_REQUESTED.labels(shipment.warehouse_id, shipment.priority).inc)
