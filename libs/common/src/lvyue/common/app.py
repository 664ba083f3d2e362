"""FastAPI factory: health, readiness, metrics, request context, and the kernel's lifespan."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Annotated

import structlog
import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from lvyue.common.bootstrap import BackgroundJob, Kernel, start_kernel
from lvyue.common.clock import Clock
from lvyue.common.consumer import Subscription
from lvyue.common.http import RequestContextMiddleware
from lvyue.common.kafka import broker_reachable
from lvyue.common.security import TokenRegistry
from lvyue.common.settings import KernelSettings, dump_public
from lvyue.common.uow import UnitOfWorkFactory

log = structlog.get_logger(__name__)


# Dependencies are async: FastAPI runs a plain `def` one in a worker thread, per request.
async def get_kernel(request: Request) -> Kernel:
    kernel: Kernel = request.app.state.kernel
    return kernel


async def get_uow_factory(request: Request) -> UnitOfWorkFactory:
    kernel: Kernel = request.app.state.kernel
    return kernel.uow


KernelDep = Annotated[Kernel, Depends(get_kernel)]
UowFactoryDep = Annotated[UnitOfWorkFactory, Depends(get_uow_factory)]

health = APIRouter(tags=["health"])


@health.get("/livez")
async def livez() -> dict[str, str]:
    return {"status": "ok"}


@health.get("/readyz")
async def readyz(kernel: KernelDep) -> JSONResponse:
    checks: dict[str, str] = {}
    try:
        async with kernel.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    checks["broker"] = "ok" if await broker_reachable(kernel.producer) else "unreachable"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@health.get("/metrics")
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def serve(app: FastAPI, settings: KernelSettings) -> None:
    """Runs a service's app until SIGTERM/SIGINT, then lets the lifespan drain it."""
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,  # our structlog configuration stays in charge
        access_log=False,  # RequestContextMiddleware logs requests with their ids
        timeout_graceful_shutdown=20,
    )
    server = uvicorn.Server(config)
    if settings.http_shared_port is None:
        server.run()
        return
    own = _listen(settings.http_host, settings.http_port, shared=False)
    shared = _listen(settings.http_host, settings.http_shared_port, shared=True)
    server.run(sockets=[own, shared])


def _listen(host: str, port: int, *, shared: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:  # every replica binds it; the kernel hands each new connection to one of them
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def create_app(
    settings: KernelSettings,
    *,
    title: str,
    routers: Sequence[APIRouter],
    subscriptions: Sequence[Subscription] = (),
    background: Sequence[BackgroundJob] = (),
    clock: Clock | None = None,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        kernel = await start_kernel(
            settings, subscriptions=subscriptions, background=background, clock=clock
        )
        app.state.kernel = kernel
        log.info("service_started", settings=dump_public(settings))
        try:
            yield
        finally:
            await kernel.stop()
            log.info("service_stopped")

    # The schema maps every route and parameter for an attacker: off unless wanted.
    docs = settings.serves_api_docs
    app = FastAPI(
        title=title,
        lifespan=lifespan,
        openapi_url="/openapi.json" if docs else None,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
    )
    app.state.settings = settings
    app.state.tokens = TokenRegistry.from_mapping(settings.token_mapping())
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health)
    for router in routers:
        app.include_router(router)
    return app
