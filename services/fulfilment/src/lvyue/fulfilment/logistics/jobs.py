"""The parcel watch job: flags quiet parcels and refreshes the open-exceptions gauge, run by the
kernel (lvyue.common.jobs.every) while the service runs."""

from __future__ import annotations

import structlog

from lvyue.common.bootstrap import BackgroundJob, Kernel
from lvyue.common.jobs import every
from lvyue.fulfilment.logistics.rules import NoScanLimits
from lvyue.fulfilment.logistics.watch import ParcelWatch
from lvyue.fulfilment.settings import FulfilmentSettings

log = structlog.get_logger(__name__)


def parcel_watch_job(settings: FulfilmentSettings) -> BackgroundJob:
    limits = NoScanLimits.from_settings(settings)
    interval = settings.logistics_check_interval_s

    async def watch_parcels(kernel: Kernel) -> None:
        watch = ParcelWatch(kernel.uow, limits)
        flagged = await watch.scan_until_clear()
        if flagged:
            log.info("parcels_flagged", count=flagged)
        await watch.refresh_gauge()

    return every(interval, watch_parcels)
