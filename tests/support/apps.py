"""Running a service app in-process with its real lifespan (database, broker, relay, consumers)."""

from __future__ import annotations

import asyncio
import importlib
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from lvyue.cli.embedded import free_port
from lvyue.common.migrate import MigrationSet
from lvyue.common.settings import KernelSettings
from tests.support.polling import eventually


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://order-review") as client:
            yield client


SERVICES = ("order_review", "inventory", "fulfilment", "aftersales")
# Only the API: no consumers, jobs or deadline scanner running behind the requests.
QUIET = {"consumers_enabled": False, "background_jobs_enabled": False}


def service_migrations(service: str) -> MigrationSet:
    """The service's migrations (`lvyue.<service>.migrations.MIGRATIONS`)."""
    migrations: MigrationSet = importlib.import_module(f"lvyue.{service}.migrations").MIGRATIONS
    return migrations


def quiet_service_app(service: str, database_url: str, bootstrap: str, prefix: str) -> FastAPI:
    """service_app serving requests only (QUIET, and no deadline scanner)."""
    return service_app(
        service, database_url, bootstrap, prefix, deadline_scanner_enabled=False, **QUIET
    )


def service_app(
    service: str, database_url: str, bootstrap: str, prefix: str, **overrides: Any
) -> FastAPI:
    """One of the four services' apps, on the given database and broker, every role's token known
    (tests.support.inventory.API_TOKENS)."""
    from lvyue.aftersales.main import build_app as aftersales_app
    from lvyue.fulfilment.main import build_app as fulfilment_app
    from lvyue.inventory.main import build_app as inventory_app
    from lvyue.order_review.main import build_app as order_review_app
    from lvyue.order_review.settings import OrderReviewSettings
    from tests.support.aftersales import aftersales_settings
    from tests.support.fulfilment import fulfilment_settings
    from tests.support.inventory import API_TOKENS, inventory_settings

    if service == "order_review":
        settings = OrderReviewSettings.model_validate(
            {
                "env": "test",
                "database_url": database_url,
                "kafka_bootstrap_servers": bootstrap,
                "kafka_idempotent_producer": False,
                "topic_prefix": prefix,
                "topic_partitions": 2,
                "api_tokens": API_TOKENS,
                **overrides,
            }
        )
        return order_review_app(settings)
    builders: dict[str, tuple[Callable[..., Any], Callable[..., FastAPI]]] = {
        "inventory": (inventory_settings, inventory_app),
        "fulfilment": (fulfilment_settings, fulfilment_app),
        "aftersales": (aftersales_settings, aftersales_app),
    }
    make_settings, build = builders[service]
    return build(make_settings(database_url, bootstrap, prefix, **overrides))


def kernel_env(settings: KernelSettings, port: int, **extra: str) -> dict[str, str]:
    """The environment of a service process run on `settings`' database and broker (a test's
    own process: `python -m tests.support...`), listening on 127.0.0.1:`port`."""
    return {
        **os.environ,
        "LVYUE_ENV": "test",
        "LVYUE_DATABASE_URL": settings.database_url,
        "LVYUE_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "LVYUE_KAFKA_IDEMPOTENT_PRODUCER": "false",
        "LVYUE_TOPIC_PREFIX": settings.topic_prefix,
        "LVYUE_HTTP_HOST": "127.0.0.1",
        "LVYUE_HTTP_PORT": str(port),
        "LVYUE_LOG_JSON": "true",
        **extra,
    }


@asynccontextmanager
async def on_loopback(app: Any) -> AsyncIterator[int]:
    """The ASGI app served over HTTP (and WebSocket) on a loopback port for the block, its
    lifespan not run (a running app's is already): its port."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None)
    )
    serving = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: _started(server), bool, timeout_s=10)
        yield port
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 10)


async def _started(server: uvicorn.Server) -> bool:
    return server.started
