"""Cancellation before dispatch: the warehouse is told not to ship and the deadlines end.

After dispatch nothing changes here (the parcel is on its way; aftersales handles it).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import structlog

from lvyue.common.deadlines.store import cancel_deadline
from lvyue.common.events.catalog import SHIPMENT_CANCELLED, OrderCancelled, ShipmentCancelled
from lvyue.common.uow import UnitOfWork
from lvyue.fulfilment import repository
from lvyue.fulfilment.commands.errors import ShipmentConflict, ShipmentNotFound
from lvyue.fulfilment.domain import SHIPMENT_SLAS, ShipmentStatus
from lvyue.fulfilment.metrics import LATE_CANCELLATIONS
from lvyue.fulfilment.repository import ShipmentRecord

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class CancelShipment:
    shipment_id: uuid.UUID
    reason: str


@dataclass(frozen=True)
class Cancelled:
    shipment: ShipmentRecord
    applied: bool  # False: it was cancelled already


async def _cancel_pending(
    uow: UnitOfWork, shipment: ShipmentRecord, *, reason: str, cancelled_at: datetime
) -> ShipmentRecord:
    cancelled = await repository.mark_cancelled(
        uow.session, shipment.id, reason=reason, cancelled_at=cancelled_at, at=uow.clock.now()
    )
    for sla in SHIPMENT_SLAS:
        await cancel_deadline(uow, sla=sla, subject=cancelled.deadline_subject, at=cancelled_at)
    await uow.emit(
        SHIPMENT_CANCELLED,
        ShipmentCancelled(
            shipment_id=cancelled.id,
            order_id=cancelled.order_id,
            warehouse_id=cancelled.warehouse_id,
            reason=reason,
            cancelled_at=cancelled_at,
            aftersale_id=cancelled.aftersale_id,
        ),
        subject=cancelled.subject,
    )
    return cancelled


async def cancel_for_order(uow: UnitOfWork, cancelled: OrderCancelled) -> ShipmentRecord | None:
    """order.cancelled: remembered (a late order.reviewed then requests nothing); a pending
    shipment is cancelled; a dispatched one stays dispatched."""
    await repository.lock_order(uow.session, cancelled.order_id)
    first = await repository.remember_cancelled(
        uow.session,
        order_id=cancelled.order_id,
        reason=cancelled.reason,
        cancelled_at=cancelled.cancelled_at,
        at=uow.clock.now(),
    )
    shipment = await repository.shipment_for_order(uow.session, cancelled.order_id, for_update=True)
    if shipment is None or shipment.status is ShipmentStatus.CANCELLED:
        return shipment
    if shipment.status is ShipmentStatus.DISPATCHED:
        if first:  # a redelivery under a new event id is not a second late cancellation
            log.warning(
                "cancelled_after_dispatch",
                order_id=str(cancelled.order_id),
                shipment_id=str(shipment.id),
                reason=cancelled.reason,
            )
            uow.after_commit(LATE_CANCELLATIONS.labels(shipment.warehouse_id).inc)
        return shipment
    return await _cancel_pending(
        uow, shipment, reason=cancelled.reason, cancelled_at=cancelled.cancelled_at
    )


async def cancel_shipment(uow: UnitOfWork, cmd: CancelShipment) -> Cancelled:
    """An operator stops a shipment; refused once dispatched; repeating it changes nothing."""
    shipment = await repository.get_shipment(uow.session, cmd.shipment_id, for_update=True)
    if shipment is None:
        raise ShipmentNotFound(cmd.shipment_id)
    if shipment.status is ShipmentStatus.CANCELLED:
        return Cancelled(shipment, applied=False)
    if shipment.status is ShipmentStatus.DISPATCHED:
        raise ShipmentConflict(
            shipment,
            f"shipment {shipment.id} is already dispatched ({shipment.carrier_code} "
            f"{shipment.tracking_number}); a return goes through aftersales",
        )
    now = uow.clock.now()
    cancelled = await _cancel_pending(uow, shipment, reason=cmd.reason, cancelled_at=now)
    return Cancelled(cancelled, applied=True)
