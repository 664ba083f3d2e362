"""How fulfilment's main.py plugs logistics exceptions in: routes, the watch, the dispatch hook."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from lvyue.common.bootstrap import BackgroundJob
from lvyue.fulfilment.hooks import DispatchHook
from lvyue.fulfilment.logistics.api import router
from lvyue.fulfilment.logistics.jobs import parcel_watch_job
from lvyue.fulfilment.logistics.watch import watch_parcel
from lvyue.fulfilment.settings import FulfilmentSettings


def routers() -> Sequence[APIRouter]:
    return (router,)


def dispatch_hooks(settings: FulfilmentSettings) -> Sequence[DispatchHook]:
    return (watch_parcel,)


def background_jobs(settings: FulfilmentSettings) -> Sequence[BackgroundJob]:
    return (parcel_watch_job(settings),)
