"""HTTP plumbing shared by every service: request ids, access logs, request metrics."""

from __future__ import annotations

import time
import uuid

import structlog
from prometheus_client import Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("lvyue.http")

REQUEST_SECONDS = Histogram(
    "lvyue_http_request_duration_seconds",
    "HTTP request latency by route template (never by raw path: ids stay out of labels)",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_KEY = REQUEST_ID_HEADER.encode()


class RequestContextMiddleware:
    """Gives every request an id (kept from X-Request-ID when sent), logs and times it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == _REQUEST_ID_KEY), b"")[:128]
        # Kept only if it goes back in a header and into the logs as it came: printable ASCII.
        kept = given.decode() if given.isascii() else ""
        request_id = kept if kept.isprintable() and kept else uuid.uuid4().hex
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (REQUEST_ID_HEADER.encode(), request_id.encode()),
                ]
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                elapsed = time.perf_counter() - started
                route = scope.get("route")
                template = getattr(route, "path", "unmatched")
                REQUEST_SECONDS.labels(scope["method"], template, str(status)).observe(elapsed)
                if template not in {"/livez", "/readyz", "/metrics"}:
                    log.info(
                        "http_request",
                        method=scope["method"],
                        route=template,
                        status=status,
                        duration_ms=round(elapsed * 1000, 2),
                    )
