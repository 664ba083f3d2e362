"""How fulfilment's main.py plugs tracking sync in: routes, the worker, the dispatch hook."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from lvyue.common.bootstrap import BackgroundJob
from lvyue.fulfilment.hooks import DispatchHook
from lvyue.fulfilment.settings import FulfilmentSettings
from lvyue.fulfilment.tracking.api import router
from lvyue.fulfilment.tracking.jobs import tracking_sync_job
from lvyue.fulfilment.tracking.on_dispatch import tracking_sync_hook
from lvyue.fulfilment.tracking.platforms import CarrierCodes


def routers() -> Sequence[APIRouter]:
    return (router,)


def dispatch_hooks(settings: FulfilmentSettings) -> Sequence[DispatchHook]:
    return (tracking_sync_hook(settings.sla_catalog(), settings.platform_apis),)


def background_jobs(
    settings: FulfilmentSettings, *, carrier_codes: CarrierCodes | None = None
) -> Sequence[BackgroundJob]:
    return (tracking_sync_job(settings, carrier_codes=carrier_codes),)
