"""Bootstrap: build order-review's app once; `lvyue-order-review` serves it with uvicorn."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from lvyue.common.app import create_app
from lvyue.common.clock import Clock
from lvyue.common.logging import configure_logging
from lvyue.order_review.api import router
from lvyue.order_review.settings import OrderReviewSettings


def build_app(settings: OrderReviewSettings, *, clock: Clock | None = None) -> FastAPI:
    return create_app(settings, title="lvyue order-review", routers=[router], clock=clock)


def run() -> None:
    settings = OrderReviewSettings()
    configure_logging(
        level=settings.log_level, json=settings.log_json, service=settings.service_name
    )
    uvicorn.run(
        build_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=20,
    )


if __name__ == "__main__":
    run()
