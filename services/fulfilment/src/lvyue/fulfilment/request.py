"""Rules outbound_24h, dispatch_1600, priority: a reviewed order becomes a shipment request."""

from __future__ import annotations

import uuid

import structlog

from lvyue.common.deadlines.store import open_deadline
from lvyue.common.events.catalog import SHIPMENT_REQUESTED, OrderReviewed, ShipmentRequested
from lvyue.common.uow import UnitOfWork
from lvyue.fulfilment import repository
from lvyue.fulfilment.domain import DISPATCH_SLA, OUTBOUND_SLA
from lvyue.fulfilment.metrics import SHIPMENTS_REQUESTED
from lvyue.fulfilment.repository import NewShipment, ShipmentLine, ShipmentRecord
from lvyue.fulfilment.warehouse_policy import WarehousePolicies

log = structlog.get_logger(__name__)


class MissingWarehouse(ValueError):
    """order.reviewed without a warehouse: nobody could ship it (the event is dead-lettered)."""


async def request_shipment(
    uow: UnitOfWork, reviewed: OrderReviewed, policies: WarehousePolicies
) -> ShipmentRecord | None:
    """Creates the shipment, opens both deadlines and asks the warehouse to ship, once per order.

    None when the order has a shipment already or was cancelled before it was reviewed.
    """
    if not reviewed.warehouse_id:
        raise MissingWarehouse(f"order.reviewed for {reviewed.order_id} names no warehouse")
    await repository.lock_order(uow.session, reviewed.order_id)
    if await repository.is_cancelled(uow.session, reviewed.order_id):
        log.info("reviewed_after_cancellation_ignored", order_id=str(reviewed.order_id))
        return None
    due = policies.due_times(reviewed.warehouse_id, reviewed.reviewed_at)
    order = reviewed.order
    shipment = await repository.insert_shipment(
        uow.session,
        NewShipment(
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
        ),
        at=uow.clock.now(),
    )
    if shipment is None:
        log.info("shipment_exists", order_id=str(reviewed.order_id))
        return None
    for sla, due_at in ((OUTBOUND_SLA, shipment.outbound_due_at), (DISPATCH_SLA, shipment.due_at)):
        await open_deadline(
            uow, sla=sla, subject=shipment.subject, opened_at=shipment.ready_at, due_at=due_at
        )
    await uow.emit(
        SHIPMENT_REQUESTED,
        ShipmentRequested(
            shipment_id=shipment.id,
            order_id=shipment.order_id,
            warehouse_id=shipment.warehouse_id,
            platform=order.platform,
            shop_id=order.shop_id,
            platform_order_id=order.platform_order_id,
            priority=shipment.priority,
            receiver=order.receiver,
            lines=order.lines,
            remarks=order.remarks,
            due_at=shipment.due_at,
            outbound_due_at=shipment.outbound_due_at,
            requested_at=uow.clock.now(),
        ),
        subject=shipment.subject,
    )
    uow.after_commit(SHIPMENTS_REQUESTED.labels(shipment.warehouse_id, shipment.priority).inc)
    return shipment
