"""Carrier scans: record them once, move the "no scan since" clock, deliver, clear or flag."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from lvyue.common.uow import UnitOfWork
from lvyue.fulfilment.logistics import repository as repo
from lvyue.fulfilment.logistics.flags import flag
from lvyue.fulfilment.logistics.records import Parcel
from lvyue.fulfilment.logistics.rules import Cause, ExceptionKind, Resolution, ScanStatus


@dataclass(frozen=True)
class Scan:
    at: datetime
    status: ScanStatus
    location: str = ""
    description: str = ""


@dataclass(frozen=True)
class ScansRecorded:
    accepted: int
    duplicates: int
    delivered: bool
    flagged: tuple[ExceptionKind, ...]
    cleared: tuple[ExceptionKind, ...]


class UnknownParcel(Exception):
    """No dispatched shipment with this id: scans arrive only after dispatch."""


async def record_scans(
    uow: UnitOfWork, shipment_id: uuid.UUID, scans: Sequence[Scan]
) -> ScansRecorded:
    """Stores new scans; a repeat of (time, status) is ignored, so the call is idempotent.

    The newest new scan decides: "delivered" (anywhere in the batch) ends the watch and clears
    every open exception; "lost" flags the parcel lost; any other scan later than the last one
    known clears its open delay or loss, and a new silence can flag it again.
    """
    async with uow:
        now = uow.clock.now()
        parcel = await repo.lock_parcel(uow.session, shipment_id)
        if parcel is None:
            raise UnknownParcel(shipment_id)
        new = await _insert_new(uow, shipment_id, scans, now)
        delivered = next((s for s in new if s.status is ScanStatus.DELIVERED), None)
        flagged: list[ExceptionKind] = []
        cleared: list[ExceptionKind] = []
        if new and (parcel.last_scan_at is None or new[-1].at > parcel.last_scan_at):
            parcel = await _moved(uow, parcel, new[-1], now)
            if delivered is None and new[-1].status is ScanStatus.LOST:
                if await flag(uow, parcel, ExceptionKind.LOST, Cause.CARRIER_LOST):
                    flagged.append(ExceptionKind.LOST)
            elif delivered is None:
                cleared += await _clear_all(uow, shipment_id, Resolution.SCANNED, now)
        if delivered is not None and parcel.delivered_at is None:
            await repo.update_parcel(
                uow.session, shipment_id, delivered_at=delivered.at, updated_at=now
            )
            cleared += await _clear_all(uow, shipment_id, Resolution.DELIVERED, now)
        await uow.commit()
    return ScansRecorded(
        accepted=len(new),
        duplicates=len(scans) - len(new),
        delivered=delivered is not None or parcel.delivered_at is not None,
        flagged=tuple(flagged),
        cleared=tuple(cleared),
    )


async def _insert_new(
    uow: UnitOfWork, shipment_id: uuid.UUID, scans: Sequence[Scan], now: datetime
) -> list[Scan]:
    """The scans not recorded before, in time order, now recorded."""
    new: list[Scan] = []
    for scan in sorted(scans, key=lambda s: s.at):
        if await repo.insert_event(
            uow.session, shipment_id, at=scan.at, status=scan.status,
            location=scan.location, description=scan.description, now=now,
        ):  # fmt: skip
            new.append(scan)
    return new


async def _moved(uow: UnitOfWork, parcel: Parcel, latest: Scan, now: datetime) -> Parcel:
    """The parcel with its newest scan: the "no scan since" clock restarts from it."""
    parcel = replace(
        parcel,
        last_scan_at=latest.at,
        last_status=latest.status.value,
        quiet_since=max(parcel.quiet_since, latest.at),
    )
    await repo.update_parcel(
        uow.session, parcel.shipment_id, last_scan_at=parcel.last_scan_at,
        last_status=parcel.last_status, quiet_since=parcel.quiet_since, updated_at=now,
    )  # fmt: skip
    return parcel


async def _clear_all(
    uow: UnitOfWork, shipment_id: uuid.UUID, resolution: Resolution, now: datetime
) -> list[ExceptionKind]:
    return await repo.clear_exceptions(
        uow.session, shipment_id, list(ExceptionKind), resolution=resolution, now=now
    )
