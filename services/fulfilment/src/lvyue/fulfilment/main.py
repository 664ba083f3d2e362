"""Bootstrap: build fulfilment's app once; `lvyue-fulfilment` serves it with uvicorn.

Tracking sync and logistics (tracking/wiring.py, logistics/wiring.py) add their dispatch
hooks, routers and jobs to the same process; tests may add dispatch hooks of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from fastapi import FastAPI

from lvyue.common.app import create_app, run_service
from lvyue.common.clock import Clock
from lvyue.common.deadlines.warehouses import WarehousePolicies
from lvyue.fulfilment.api import shipments
from lvyue.fulfilment.context import FulfilmentContext
from lvyue.fulfilment.handlers import subscriptions
from lvyue.fulfilment.hooks import DispatchHook
from lvyue.fulfilment.jobs import jobs
from lvyue.fulfilment.logistics import wiring as logistics
from lvyue.fulfilment.settings import FulfilmentSettings
from lvyue.fulfilment.tracking import wiring as tracking


def build_app(
    settings: FulfilmentSettings,
    *,
    clock: Clock | None = None,
    dispatch_hooks: Sequence[DispatchHook] = (),
    sync_workers: bool = True,
) -> FastAPI:
    """The fulfilment app; `sync_workers=False` leaves tracking and parcel jobs to the caller."""
    # Tracking sync and parcel watching are part of every dispatch, in the same transaction.
    hooks = [*tracking.dispatch_hooks(settings), *logistics.dispatch_hooks(settings)]
    context = FulfilmentContext(
        policies=WarehousePolicies.from_settings(settings),
        dispatch_hooks=(*hooks, *dispatch_hooks),
        replacement_priority=settings.replacement_priority,
        late_costs={p: c.rule() for p, c in settings.late_dispatch_compensation.items()},
        pick_at_risk=timedelta(seconds=settings.pick_at_risk_s),
        dispatch_clock_skew=timedelta(seconds=settings.dispatch_clock_skew_s),
    )
    app = create_app(
        settings,
        title="lvyue fulfilment",
        routers=[shipments.router, *tracking.routers(), *logistics.routers()],
        subscriptions=subscriptions(context),
        background=jobs(settings, sync_workers=sync_workers),
        clock=clock,
    )
    app.state.fulfilment = context
    return app


def run() -> None:
    run_service(FulfilmentSettings(), build_app)
