"""Exchanges (换货): aftersale.replacement_requested becomes a second shipment of the order.

The replacement is a shipment like the order's own (same warehouse contract, outbound_24h and
dispatch_1600 from the moment it is requested) with its own key, the after-sale id: one per
exchange, however often the event is delivered. Its dispatch is announced as
aftersale.replacement_dispatched, not order.shipped, because the order shipped once already.
"""

from __future__ import annotations

import uuid

import structlog

from lvyue.common.deadlines.warehouses import WarehousePolicies
from lvyue.common.events.catalog import Priority, ReplacementRequested
from lvyue.common.uow import UnitOfWork
from lvyue.fulfilment.repository import NewShipment, ShipmentLine, ShipmentRecord
from lvyue.fulfilment.request import start_shipment

log = structlog.get_logger(__name__)


async def request_replacement(
    uow: UnitOfWork,
    requested: ReplacementRequested,
    policies: WarehousePolicies,
    *,
    priority: Priority,
) -> ShipmentRecord | None:
    """Asks the warehouse to ship the replacement; None if this exchange has one already."""
    due = policies.due_times(requested.warehouse_id, requested.requested_at)
    new = NewShipment(
        id=uuid.uuid4(),
        order_id=requested.order_id,
        aftersale_id=requested.aftersale_id,
        warehouse_id=requested.warehouse_id,
        platform=requested.platform,
        shop_id=requested.shop_id,
        platform_order_id=requested.platform_order_id,
        priority=priority,
        lines=tuple(ShipmentLine(ln.sku, ln.name, ln.quantity) for ln in requested.lines),
        remarks=f"换货补发 / exchange replacement, after-sale {requested.aftersale_id}",
        ready_at=requested.requested_at,
        due_at=due.dispatch_due_at,
        outbound_due_at=due.outbound_due_at,
    )
    shipment = await start_shipment(uow, new, receiver=requested.receiver, lines=requested.lines)
    if shipment is None:
        log.info("replacement_exists", aftersale_id=str(requested.aftersale_id))
    else:
        log.info(
            "replacement_requested",
            aftersale_id=str(requested.aftersale_id),
            order_id=str(requested.order_id),
            shipment_id=str(shipment.id),
        )
    return shipment
