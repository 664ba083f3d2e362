"""The tracking-sync job: the worker's rounds and its gauge, run by the kernel
(lvyue.common.jobs.every) while the service runs."""

from __future__ import annotations

import asyncio

import httpx

from lvyue.common.bootstrap import BackgroundJob, Kernel
from lvyue.common.jobs import every
from lvyue.fulfilment.settings import FulfilmentSettings
from lvyue.fulfilment.tracking.platforms import Adapters, CarrierCodes
from lvyue.fulfilment.tracking.policy import RetryPolicy
from lvyue.fulfilment.tracking.worker import TrackingSyncWorker

GAUGE_INTERVAL_S = 15.0


def tracking_sync_job(
    settings: FulfilmentSettings, *, carrier_codes: CarrierCodes | None = None
) -> BackgroundJob:
    """One HTTP client and one worker for the job's life; a busy round is followed at once by
    the next (drain), an idle or failed one waits the poll interval (no jitter, as before)."""
    timeout = settings.tracking_sync_timeout_s
    interval = settings.tracking_sync_poll_interval_s

    async def sync_tracking_numbers(kernel: Kernel, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            worker = TrackingSyncWorker(
                kernel.uow,
                client,
                apis=settings.platform_apis,
                policy=RetryPolicy.from_settings(settings),
                adapters=Adapters(carrier_codes or settings.carrier_codes),
                lease_s=3 * timeout + 5,  # Shopify makes two calls; plus recording time
            )
            gauge_due = 0.0

            async def sync_round(_: Kernel) -> bool:
                nonlocal gauge_due
                busy = await worker.run_once() > 0
                loop = asyncio.get_running_loop()
                if loop.time() >= gauge_due:
                    await worker.refresh_gauge()
                    gauge_due = loop.time() + max(interval, GAUGE_INTERVAL_S)
                return busy

            rounds = every(
                interval, sync_round, name="sync_tracking_numbers", drain=True, jitter=0.0
            )
            await rounds(kernel, stop)

    return sync_tracking_numbers
