"""The buyer changed the receiver on the platform after review: a pending shipment's warehouse
is told (shipment.receiver_changed); once the parcel has left nothing changes here (it is
counted: the platform and the buyer sort it out with the carrier).

The change is remembered per order first: order.receiver_changed travels on another topic than
order.reviewed and may overtake it, and the late order.reviewed then requests the shipment to
the new receiver. Only the latest change counts; an older one redelivered changes nothing.
"""

from __future__ import annotations

import structlog

from lvyue.common.events.catalog import (
    SHIPMENT_RECEIVER_CHANGED,
    OrderReceiverChanged,
    ShipmentReceiverChanged,
)
from lvyue.common.uow import UnitOfWork
from lvyue.fulfilment import repository
from lvyue.fulfilment.domain import ShipmentStatus
from lvyue.fulfilment.metrics import RECEIVER_CHANGES

log = structlog.get_logger(__name__)


async def change_receiver(uow: UnitOfWork, changed: OrderReceiverChanged) -> str:
    """told (the warehouse), remembered (no shipment yet), stale (a later change is known),
    too_late (dispatched) or cancelled."""
    await repository.lock_order(uow.session, changed.order_id)
    latest = await repository.remember_receiver(
        uow.session, order_id=changed.order_id, receiver=changed.receiver,
        changed_at=changed.changed_at, at=uow.clock.now(),
    )  # fmt: skip
    shipment = await repository.shipment_for_order(uow.session, changed.order_id)
    if not latest:
        outcome = "stale"
    elif shipment is None:
        outcome = "remembered"
    elif shipment.status is ShipmentStatus.DISPATCHED:
        outcome = "too_late"
        log.warning(
            "receiver_changed_after_dispatch", order_id=str(changed.order_id),
            shipment_id=str(shipment.id), platform=changed.platform,
        )  # fmt: skip
    elif shipment.status is ShipmentStatus.CANCELLED:
        outcome = "cancelled"
    else:
        outcome = "told"
        await uow.emit(
            SHIPMENT_RECEIVER_CHANGED,
            ShipmentReceiverChanged(
                shipment_id=shipment.id, order_id=shipment.order_id,
                warehouse_id=shipment.warehouse_id, receiver=changed.receiver,
                changed_at=changed.changed_at,
            ),
            subject=shipment.subject,
        )  # fmt: skip
    uow.after_commit(RECEIVER_CHANGES.labels(outcome).inc)
    return outcome
