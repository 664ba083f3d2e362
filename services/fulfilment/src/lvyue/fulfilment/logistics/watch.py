"""Watching parcels: start at dispatch (the dispatch hook), and flag the quiet ones delayed or
lost (ParcelWatch, run by jobs.py).

The scanner claims parcels with FOR UPDATE SKIP LOCKED and flags them in the transaction that
writes shipment.delayed to the outbox; a partial unique index allows one open exception per
parcel and kind. So replicas and restarts flag and announce each episode exactly once.
"""

from __future__ import annotations

from lvyue.common.uow import UnitOfWork, UnitOfWorkFactory
from lvyue.fulfilment.logistics import metrics
from lvyue.fulfilment.logistics import repository as repo
from lvyue.fulfilment.logistics.flags import flag
from lvyue.fulfilment.logistics.records import Parcel
from lvyue.fulfilment.logistics.rules import Cause, ExceptionKind, NoScanLimits
from lvyue.fulfilment.tracking.records import DispatchedShipment, push_of


async def watch_parcel(uow: UnitOfWork, shipment: DispatchedShipment) -> None:
    """Dispatch hook: the parcel is watched from its dispatch on (silence counts from then)."""
    push = push_of(shipment)
    parcel = Parcel(
        shipment_id=push.shipment_id,
        order_id=push.order_id,
        warehouse_id=shipment.warehouse_id,
        carrier_code=push.carrier_code,
        tracking_number=push.tracking_number,
        dispatched_at=push.dispatched_at,
        last_scan_at=None,
        last_status=None,
        quiet_since=push.dispatched_at,
        delivered_at=None,
    )
    await repo.insert_parcel(uow.session, parcel, now=uow.clock.now())


class ParcelWatch:
    def __init__(
        self, uow_factory: UnitOfWorkFactory, limits: NoScanLimits, *, batch_size: int = 200
    ) -> None:
        self._uow = uow_factory
        self._limits = limits
        self._batch_size = batch_size

    async def scan_once(self) -> list[tuple[ExceptionKind, Parcel]]:
        """Flags one batch: lost first (a lost parcel is not also delayed), then delayed."""
        flagged: list[tuple[ExceptionKind, Parcel]] = []
        async with self._uow() as uow:
            now = uow.clock.now()
            for kind, cutoff in (
                (ExceptionKind.LOST, self._limits.lost_cutoff(now)),
                (ExceptionKind.DELAYED, self._limits.delayed_cutoff(now)),
            ):
                quiet = await repo.lock_quiet(
                    uow.session, kind=kind, quiet_before=cutoff, limit=self._batch_size
                )
                for parcel in quiet:
                    if await flag(uow, parcel, kind, Cause.NO_SCAN):
                        flagged.append((kind, parcel))
            await uow.commit()
        return flagged

    async def scan_until_clear(self, max_rounds: int = 100) -> int:
        total = 0
        for _ in range(max_rounds):
            batch = await self.scan_once()
            total += len(batch)
            if not batch:
                break
        return total

    async def refresh_gauge(self) -> None:
        async with self._uow() as uow:
            counts = await repo.count_open(uow.session)
        metrics.set_open(counts)
