"""How fulfilment's main.py plugs tracking sync in: routes, the worker, the dispatch hook."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import httpx
import structlog
from fastapi import APIRouter

from lvyue.common.bootstrap import BackgroundJob, Kernel
from lvyue.fulfilment.hooks import DispatchHook
from lvyue.fulfilment.settings import FulfilmentSettings
from lvyue.fulfilment.tracking.api import router
from lvyue.fulfilment.tracking.hook import tracking_sync_hook
from lvyue.fulfilment.tracking.platforms import Adapters, CarrierCodes
from lvyue.fulfilment.tracking.policy import RetryPolicy
from lvyue.fulfilment.tracking.worker import TrackingSyncWorker

log = structlog.get_logger(__name__)

GAUGE_INTERVAL_S = 15.0


def routers() -> Sequence[APIRouter]:
    return (router,)


def dispatch_hooks(settings: FulfilmentSettings) -> Sequence[DispatchHook]:
    return (tracking_sync_hook(settings.sla_catalog(), settings.platform_apis),)


def background_jobs(
    settings: FulfilmentSettings, *, carrier_codes: CarrierCodes | None = None
) -> Sequence[BackgroundJob]:
    return (tracking_sync_job(settings, carrier_codes=carrier_codes),)


def tracking_sync_job(
    settings: FulfilmentSettings, *, carrier_codes: CarrierCodes | None = None
) -> BackgroundJob:
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
            loop = asyncio.get_running_loop()
            while not stop.is_set():
                busy = False
                try:
                    busy = await worker.run_once() > 0
                    if loop.time() >= gauge_due:
                        await worker.refresh_gauge()
                        gauge_due = loop.time() + max(interval, GAUGE_INTERVAL_S)
                except Exception as exc:  # a database hiccup must not end the job
                    log.warning("tracking_sync_round_failed", error=repr(exc))
                if busy:
                    continue  # drain: more may be due
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), interval)

    return sync_tracking_numbers
