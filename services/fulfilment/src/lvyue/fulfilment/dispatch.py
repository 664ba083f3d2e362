"""Dispatch confirmation, from the API or the warehouse.dispatched topic: one function for both.

Idempotent: the confirmation already recorded returns the recorded shipment and changes
nothing; a different carrier or tracking number, or a cancelled shipment, is a conflict.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from lvyue.common.deadlines.store import close_deadline
from lvyue.common.events.catalog import (
    AFTERSALE_REPLACEMENT_DISPATCHED,
    ORDER_SHIPPED,
    OrderShipped,
    ReplacementDispatched,
)
from lvyue.common.uow import UnitOfWork
from lvyue.fulfilment import repository
from lvyue.fulfilment.commands.errors import InvalidDispatch, ShipmentConflict, ShipmentNotFound
from lvyue.fulfilment.domain import SHIPMENT_SLAS, ShipmentStatus, on_time, stock_lines
from lvyue.fulfilment.hooks import DispatchHooks, after_dispatch
from lvyue.fulfilment.metrics import DISPATCHES
from lvyue.fulfilment.repository import ShipmentRecord

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class DispatchShipment:
    shipment_id: uuid.UUID
    carrier_code: str
    tracking_number: str
    dispatched_at: datetime


@dataclass(frozen=True)
class Dispatched:
    shipment: ShipmentRecord
    applied: bool  # False: a repeat of the confirmation already recorded


def _same(shipment: ShipmentRecord, cmd: DispatchShipment) -> bool:
    return (shipment.carrier_code, shipment.tracking_number) == (
        cmd.carrier_code,
        cmd.tracking_number,
    )


def _refuse(shipment: ShipmentRecord, cmd: DispatchShipment) -> ShipmentConflict:
    if shipment.status is ShipmentStatus.CANCELLED:
        return ShipmentConflict(
            shipment,
            f"shipment {shipment.id} is cancelled ({shipment.cancel_reason}); it must not ship",
        )
    return ShipmentConflict(
        shipment,
        f"shipment {shipment.id} is already dispatched with {shipment.carrier_code} "
        f"{shipment.tracking_number}, not {cmd.carrier_code} {cmd.tracking_number}",
    )


async def _announce(uow: UnitOfWork, dispatched: ShipmentRecord, cmd: DispatchShipment) -> None:
    """order.shipped for the order's own parcel; an exchange's replacement is announced as
    aftersale.replacement_dispatched (the order shipped once already)."""
    shipped = OrderShipped(
        order_id=dispatched.order_id,
        warehouse_id=dispatched.warehouse_id,
        lines=stock_lines((ln.sku, ln.quantity) for ln in dispatched.lines),
        carrier=cmd.carrier_code,
        tracking_number=cmd.tracking_number,
        dispatched_at=cmd.dispatched_at,
    )
    if dispatched.aftersale_id is None:
        await uow.emit(ORDER_SHIPPED, shipped, subject=dispatched.subject)
        return
    replaced = ReplacementDispatched(
        aftersale_id=dispatched.aftersale_id, shipment_id=dispatched.id, **shipped.model_dump()
    )
    await uow.emit(AFTERSALE_REPLACEMENT_DISPATCHED, replaced, subject=dispatched.subject)


async def dispatch_shipment(
    uow: UnitOfWork,
    cmd: DispatchShipment,
    hooks: DispatchHooks = (),
    *,
    skew: timedelta,
) -> Dispatched:
    """Marks the shipment dispatched, closes both deadlines, announces it; no commit.

    `skew`: how far a warehouse's clock may be off ours (LVYUE_DISPATCH_CLOCK_SKEW_S)."""
    shipment = await repository.get_shipment(uow.session, cmd.shipment_id, for_update=True)
    if shipment is None:
        raise ShipmentNotFound(cmd.shipment_id)
    if shipment.status is ShipmentStatus.DISPATCHED and _same(shipment, cmd):
        return Dispatched(shipment, applied=False)
    if shipment.status is not ShipmentStatus.PENDING:
        raise _refuse(shipment, cmd)
    now = uow.clock.now()
    _check_dispatch_time(cmd, shipment, now, skew)
    dispatched = await repository.mark_dispatched(
        uow.session,
        shipment.id,
        carrier_code=cmd.carrier_code,
        tracking_number=cmd.tracking_number,
        dispatched_at=cmd.dispatched_at,
        at=now,
    )
    closed = [
        await close_deadline(
            uow, sla=sla, subject=dispatched.deadline_subject, closed_at=cmd.dispatched_at
        )
        for sla in SHIPMENT_SLAS
    ]
    await _announce(uow, dispatched, cmd)
    await after_dispatch(uow, dispatched, hooks)
    in_time = "true" if on_time(closed) else "false"
    uow.after_commit(DISPATCHES.labels(dispatched.warehouse_id, dispatched.platform, in_time).inc)
    log.info("shipment_dispatched", shipment_id=str(dispatched.id), on_time=in_time)
    return Dispatched(dispatched, applied=True)


def _check_dispatch_time(
    cmd: DispatchShipment, shipment: ShipmentRecord, now: datetime, skew: timedelta
) -> None:
    """A dispatch later than now, or earlier than lvyue asked the warehouse to ship (beyond
    clock skew either way), is a warehouse's error, not a fact: stored, it would close the
    deadlines at a time the parcel cannot have left (a late dispatch backdated reads as met).
    Comparisons only: a time like year 1 at +14:00 has no UTC value to convert to."""
    if cmd.dispatched_at > now + skew:
        raise InvalidDispatch(
            f"dispatched_at {cmd.dispatched_at.isoformat()} is in the future "
            f"(now {now.isoformat()})"
        )
    requested_at = shipment.created_at  # shipment.requested's requested_at, the same instant
    if cmd.dispatched_at < requested_at - skew:
        raise InvalidDispatch(
            f"dispatched_at {cmd.dispatched_at.isoformat()} is before the shipment was "
            f"requested ({requested_at.isoformat()}) by more than the clock skew allowed "
            f"({int(skew.total_seconds())} s): a parcel cannot leave before the warehouse "
            "was asked to ship it"
        )
