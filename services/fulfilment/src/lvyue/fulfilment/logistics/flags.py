"""Raising a logistics exception: flag the parcel once, announce shipment.delayed with it."""

from __future__ import annotations

from datetime import datetime

import structlog

from lvyue.common.events.catalog import SHIPMENT_DELAYED, ShipmentDelayed
from lvyue.common.uow import UnitOfWork
from lvyue.fulfilment.logistics import metrics
from lvyue.fulfilment.logistics import repository as repo
from lvyue.fulfilment.logistics.records import Parcel
from lvyue.fulfilment.logistics.rules import Cause, ExceptionKind, Resolution

log = structlog.get_logger(__name__)


async def flag(uow: UnitOfWork, parcel: Parcel, kind: ExceptionKind, cause: Cause) -> bool:
    """Flags `parcel` as `kind` and emits shipment.delayed, unless it is flagged already.

    A loss supersedes a delay: the open delay is cleared as escalated.
    """
    now = uow.clock.now()
    if not await repo.open_exception(uow.session, parcel, kind=kind, cause=cause, now=now):
        return False
    if kind is ExceptionKind.LOST:
        await repo.clear_exceptions(
            uow.session,
            parcel.shipment_id,
            [ExceptionKind.DELAYED],
            resolution=Resolution.ESCALATED,
            now=now,
        )
    await uow.emit(SHIPMENT_DELAYED, _delayed(parcel, kind, now), subject=str(parcel.order_id))
    uow.after_commit(metrics.EXCEPTIONS.labels(kind.value).inc)
    uow.after_commit(
        lambda: log.warning(
            "parcel_flagged",
            kind=kind.value,
            cause=cause.value,
            shipment_id=str(parcel.shipment_id),
            quiet_since=parcel.quiet_since.isoformat(),
        )
    )
    return True


def _delayed(parcel: Parcel, kind: ExceptionKind, now: datetime) -> ShipmentDelayed:
    return ShipmentDelayed(
        shipment_id=parcel.shipment_id,
        order_id=parcel.order_id,
        warehouse_id=parcel.warehouse_id,
        carrier_code=parcel.carrier_code,
        tracking_number=parcel.tracking_number,
        last_scan_at=parcel.last_scan_at,
        lost=kind is ExceptionKind.LOST,
        detected_at=now,
    )
