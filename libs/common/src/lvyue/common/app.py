"""FastAPI factory: health, readiness, metrics, request context, and the kernel's lifespan."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, TypeVar

import asyncpg
import structlog
import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, generate_latest
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from lvyue.common.body_limit import bound_bodies
from lvyue.common.bootstrap import BackgroundJob, Kernel, start_kernel
from lvyue.common.clock import Clock
from lvyue.common.connections import bounded_protocol
from lvyue.common.consumer import Subscription
from lvyue.common.consumer import routes as dead_letter_routes
from lvyue.common.db import is_database_unavailable
from lvyue.common.deadlines import routes as deadline_routes
from lvyue.common.gc_tuning import tune_gc
from lvyue.common.http import RequestContextMiddleware
from lvyue.common.kafka import broker_reachable
from lvyue.common.logging import configure_logging
from lvyue.common.loop_watchdog import loop_watchdog
from lvyue.common.openapi import install_openapi, public
from lvyue.common.problems import DATABASE_UNAVAILABLE_TYPE, install_problem_handlers, problem
from lvyue.common.routing import BoundedRoute, api_router
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

health = api_router(tags=["health"])


class Liveness(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "ok"}]})

    status: str


class Readiness(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"ready": True, "checks": {"database": "ok", "broker": "ok"}},
                {
                    "ready": False,
                    "down": ["broker"],
                    "detail": "broker unreachable",
                    "checks": {"database": "ok", "broker": "unreachable"},
                },
            ]
        }
    )

    ready: bool
    checks: dict[str, str] = Field(
        description="database and broker: ok or unreachable; a kernel task that failed "
        "(e.g. consumer): failed"
    )
    consumer_partitions: int | None = Field(
        default=None, description="Partitions this replica's consumer holds, once it joined."
    )
    down: list[str] | None = None
    detail: str | None = None


_PROBE = public("a probe for the orchestrator, answering on the loopback or cluster network")


@health.get("/livez", response_model=Liveness, openapi_extra=_PROBE)
async def livez() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@health.get(
    "/readyz",
    response_model=Readiness,
    responses={
        503: {
            "model": Readiness,
            "description": "the database or broker is down, or a kernel task failed",
        }
    },
    openapi_extra=_PROBE,
)
async def readyz(kernel: KernelDep) -> JSONResponse:
    """Ready when the database and the broker answer within the probe timeout, and no kernel
    task (relay, consumer, scans, jobs) has failed."""
    timeout_s = kernel.settings.readiness_probe_timeout_s
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(_select_one(kernel), timeout_s)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    reachable = await broker_reachable(kernel.producer, timeout_s)
    checks["broker"] = "ok" if reachable else "unreachable"
    if kernel.failed_task is not None:  # stopping: its supervisor starts it again
        checks[kernel.failed_task] = "failed"
    down = [name for name, state in checks.items() if state != "ok"]
    if not down:
        body: dict[str, object] = {"ready": True, "checks": checks}
        if kernel.consumer is not None and kernel.consumer.assignment is not None:
            # Informational: HTTP is served while the consumer joins its group (seconds).
            body["consumer_partitions"] = kernel.consumer.assignment.partitions
        return JSONResponse(body)
    return JSONResponse(
        {
            "ready": False,
            "down": down,
            "detail": " and ".join(f"{name} {checks[name].partition(':')[0]}" for name in down),
            "checks": checks,
        },
        status_code=503,
        headers={"Retry-After": str(kernel.settings.unavailable_retry_after_s)},
    )


async def _select_one(kernel: Kernel) -> None:
    async with kernel.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


DATABASE_UNAVAILABLE = Counter(
    "lvyue_http_database_unavailable_total",
    "Requests answered 503 because PostgreSQL could not be reached",
)


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    """503 with Retry-After for a request that failed on an unreachable PostgreSQL; any other
    database or socket error stays the 500 it was."""
    if not is_database_unavailable(exc):
        raise exc
    DATABASE_UNAVAILABLE.inc()
    settings: KernelSettings = request.app.state.settings
    return problem(
        503,
        "database unavailable: nothing was changed, try again later",
        type_=DATABASE_UNAVAILABLE_TYPE,
        headers={"Retry-After": str(settings.unavailable_retry_after_s)},
    )


MetricNames = Annotated[
    tuple[str, ...],
    Query(
        alias="name[]",
        max_length=64,
        description="Sample names to answer (repeatable), e.g. `lvyue_outbox_backlog`; "
        "none: every metric.",
    ),
]


@health.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "content": {
                CONTENT_TYPE_LATEST: {"example": 'lvyue_sla_open{sla="dispatch_1600"} 3.0\n'}
            },
            "description": "Prometheus text exposition",
        }
    },
    openapi_extra=public("scraped by Prometheus; carries no order or customer data"),
)
async def metrics(names: MetricNames = ()) -> Response:
    """Every metric, or with `name[]` only those samples, as Prometheus client libraries'
    own handlers allow: a frequent reader of one gauge need not render every histogram."""
    registry = REGISTRY.restricted_registry(names) if names else REGISTRY
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


ServiceSettings = TypeVar("ServiceSettings", bound=KernelSettings)


def run_service(settings: ServiceSettings, build_app: Callable[[ServiceSettings], FastAPI]) -> None:
    """A service's process (its `main.run`): logging configured from its settings, then its app
    built and served until SIGTERM/SIGINT."""
    configure_logging(
        level=settings.log_level, json=settings.log_json, service=settings.service_name
    )
    app = build_app(settings)
    tune_gc(settings.gc_young_threshold)  # after the app is built: all of it lives as long
    serve(app, settings)


# How long a service keeps an idle client connection open (uvicorn's default, named): a client
# that pools connections to a service must drop them sooner, or it may send a request on one the
# service is closing at that moment and get a transport error from a healthy service.
KEEP_ALIVE_S = 5


def server_config(app: FastAPI, settings: KernelSettings) -> uvicorn.Config:
    """How uvicorn serves a service's app: connections bounded (`lvyue.common.connections`)."""
    return uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,  # our structlog configuration stays in charge
        access_log=False,  # RequestContextMiddleware logs requests with their ids
        timeout_graceful_shutdown=20,
        timeout_keep_alive=KEEP_ALIVE_S,
        http=bounded_protocol(settings.header_timeout_s, settings.max_connections),
    )


def serve(app: FastAPI, settings: KernelSettings) -> None:
    """Runs a service's app until SIGTERM/SIGINT, then lets the lifespan drain it."""
    server = uvicorn.Server(server_config(app, settings))

    def stop_serving(task: str) -> None:
        server.should_exit = True  # the same orderly stop as on SIGTERM

    app.state.on_task_failure = stop_serving
    if settings.http_shared_port is None:
        server.run()
    else:
        own = _listen(settings.http_host, settings.http_port, shared=False)
        shared = _listen(settings.http_host, settings.http_shared_port, shared=True)
        server.run(sockets=[own, shared])
    kernel: Kernel | None = getattr(app.state, "kernel", None)
    if kernel is not None and kernel.failed_task is not None:
        # A non-zero exit: `lvyue run`, systemd or Kubernetes start the service again.
        raise SystemExit(f"stopped: its {kernel.failed_task} task failed (see the log)")


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
        kernel.on_task_failure = getattr(app.state, "on_task_failure", None)
        log.info("service_started", settings=dump_public(settings))
        try:
            async with loop_watchdog(settings.loop_watchdog_seconds):
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
        docs_url=None,  # served by install_openapi, with local assets
        redoc_url=None,
        # lvyue reports through Prometheus metrics and structured logs; FastAPI's native
        # OpenTelemetry would otherwise look up the global providers on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.router.route_class = BoundedRoute  # the routes added to the app itself, too
    install_openapi(app, docs=docs)
    install_problem_handlers(app)
    app.state.settings = settings
    app.state.tokens = TokenRegistry.from_mapping(settings.token_mapping())
    bound_bodies(app, settings)
    app.add_middleware(RequestContextMiddleware)
    # The types a lost connection surfaces as; the handler tells them from other errors.
    for error in (SQLAlchemyError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
        app.add_exception_handler(error, _database_unavailable)
    app.include_router(health)
    app.include_router(deadline_routes.router)  # every service forecasts its own deadlines
    app.include_router(dead_letter_routes.router)  # and redrives what its consumer parked
    for router in routers:
        app.include_router(router)
    return app
