"""Bootstrap: build inventory's app once; `lvyue-inventory` serves it with uvicorn."""

from __future__ import annotations

from fastapi import FastAPI

from lvyue.common.app import create_app, serve
from lvyue.common.clock import Clock
from lvyue.common.logging import configure_logging
from lvyue.inventory.api import router
from lvyue.inventory.domain import StockPolicy
from lvyue.inventory.handlers import subscriptions
from lvyue.inventory.metrics import low_stock_gauge_job
from lvyue.inventory.settings import InventorySettings
from lvyue.inventory.slow_moving import slow_moving_job


def build_app(settings: InventorySettings, *, clock: Clock | None = None) -> FastAPI:
    policy = StockPolicy.from_settings(settings)
    app = create_app(
        settings,
        title="lvyue inventory",
        routers=[router],
        subscriptions=subscriptions(policy),
        background=[
            slow_moving_job(
                days=settings.slow_moving_days,
                interval_s=settings.slow_moving_check_interval_s,
                batch_size=settings.slow_moving_batch_size,
            ),
            low_stock_gauge_job(settings.metrics_refresh_interval_s),
        ],
        clock=clock,
    )
    app.state.policy = policy
    return app


def run() -> None:
    settings = InventorySettings()
    configure_logging(
        level=settings.log_level, json=settings.log_json, service=settings.service_name
    )
    serve(build_app(settings), settings)


if __name__ == "__main__":
    run()
