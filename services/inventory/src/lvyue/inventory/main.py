"""Bootstrap: build inventory's app once; `lvyue-inventory` serves it with uvicorn."""

from __future__ import annotations

from fastapi import FastAPI

from lvyue.common.app import create_app, run_service
from lvyue.common.clock import Clock
from lvyue.inventory.api import skus, stock
from lvyue.inventory.domain import StockPolicy
from lvyue.inventory.handlers import subscriptions
from lvyue.inventory.jobs import jobs
from lvyue.inventory.settings import InventorySettings


def build_app(settings: InventorySettings, *, clock: Clock | None = None) -> FastAPI:
    policy = StockPolicy.from_settings(settings)
    app = create_app(
        settings,
        title="lvyue inventory",
        routers=[skus.router, stock.router],
        subscriptions=subscriptions(policy),
        background=jobs(settings),
        clock=clock,
    )
    app.state.policy = policy
    return app


def run() -> None:
    run_service(InventorySettings(), build_app)
