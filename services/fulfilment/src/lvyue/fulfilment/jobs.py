"""Fulfilment's periodic jobs, run by the kernel (lvyue.common.jobs.every): the pending-shipments
gauge, and the tracking sync and parcel watch of the tracking and logistics subpackages."""

from __future__ import annotations

from lvyue.common.bootstrap import BackgroundJob, Kernel
from lvyue.common.jobs import every
from lvyue.fulfilment import repository
from lvyue.fulfilment.logistics import wiring as logistics
from lvyue.fulfilment.metrics import PENDING_SHIPMENTS
from lvyue.fulfilment.settings import FulfilmentSettings
from lvyue.fulfilment.tracking import wiring as tracking


class PendingGauge:
    """Sets the gauge from the database, so every replica reports the same numbers."""

    def __init__(self) -> None:
        self._known: set[str] = set()

    async def refresh(self, kernel: Kernel) -> dict[str, int]:
        async with kernel.uow() as uow:
            counts = await repository.count_pending_by_warehouse(uow.session)
        for warehouse in self._known - counts.keys():
            PENDING_SHIPMENTS.labels(warehouse).set(0)
        for warehouse, count in counts.items():
            PENDING_SHIPMENTS.labels(warehouse).set(count)
        self._known |= counts.keys()
        return counts


def pending_gauge_job(interval_s: float) -> BackgroundJob:
    return every(interval_s, PendingGauge().refresh, name="refresh_pending_shipments")


def jobs(settings: FulfilmentSettings, *, sync_workers: bool = True) -> list[BackgroundJob]:
    """`sync_workers=False` leaves the tracking sync and the parcel watch to the caller."""
    return [
        pending_gauge_job(settings.metrics_refresh_interval_s),
        *(tracking.background_jobs(settings) if sync_workers else ()),
        *(logistics.background_jobs(settings) if sync_workers else ()),
    ]
