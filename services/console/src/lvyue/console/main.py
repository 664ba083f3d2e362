"""Bootstrap: the console's app (pages, static assets, errors as pages); `lvyue-console`
serves it with uvicorn. It calls the services' HTTP APIs only: no database, no broker."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from lvyue.common.app import health, run_service
from lvyue.common.body_limit import bound_bodies
from lvyue.common.http import RequestContextMiddleware
from lvyue.common.loop_watchdog import loop_watchdog
from lvyue.common.security import TokenRegistry
from lvyue.console.api import auth, board, cases, dead_letters, picklist, queue
from lvyue.console.api.deps import ConsoleState, CsrfFailed, Forbidden, SignInRequired, get_page
from lvyue.console.api.session import Csrf
from lvyue.console.settings import ConsoleSettings
from lvyue.console.upstream import Upstream, UpstreamDown

STATIC = Path(__file__).resolve().parent / "static"
# Pages and their scripts come from here only; no frame may hold them (clickjacking).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
    "; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def build_app(settings: ConsoleSettings) -> FastAPI:
    # Each page calls the services; their own access logs already record those calls.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    secret = settings.console_secret
    upstream = Upstream(
        {
            "order-review": settings.order_review_url.rstrip("/"),
            "inventory": settings.inventory_url.rstrip("/"),
            "fulfilment": settings.fulfilment_url.rstrip("/"),
            "aftersales": settings.aftersales_url.rstrip("/"),
        },
        timeout_s=settings.upstream_timeout_s,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with loop_watchdog(settings.loop_watchdog_seconds):
            yield
        await upstream.close()

    app = FastAPI(title="lvyue console", lifespan=lifespan, openapi_url=None, docs_url=None,
                  redoc_url=None)  # fmt: skip
    app.state.settings = settings
    app.state.console = ConsoleState(
        settings,
        TokenRegistry.from_mapping(settings.token_mapping()),
        Csrf(
            secret.get_secret_value().encode() if secret else secrets.token_bytes(32),
            secure=settings.secure_cookies,
        ),
        upstream,
    )
    bound_bodies(app, settings)
    app.middleware("http")(_csrf_seed_and_headers)
    app.add_middleware(RequestContextMiddleware)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(health)
    for module in (auth, queue, picklist, cases, board, dead_letters):
        app.include_router(module.router)
    _install_error_pages(app)
    return app


async def _csrf_seed_and_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Every visitor has a CSRF seed before a page renders its forms; every answer carries the
    security headers."""
    state: ConsoleState = request.app.state.console
    seed = state.csrf.seed(request)
    request.state.csrf_seed = seed or secrets.token_urlsafe(32)
    response = await call_next(request)
    if seed is None:
        response.set_cookie(
            "lvyue_console_csrf", request.state.csrf_seed, httponly=True, samesite="strict",
            secure=state.settings.secure_cookies, path="/",
        )  # fmt: skip
    response.headers.update(SECURITY_HEADERS)
    return response


def _install_error_pages(app: FastAPI) -> None:
    async def sign_in_first(request: Request, exc: Exception) -> Response:
        if request.headers.get("HX-Request"):  # a poll after the session ended: reload the page
            return Response(status_code=401, headers={"HX-Redirect": "/sign-in"})
        target = "/sign-in?next=" + quote(request.url.path, safe="/")
        return RedirectResponse(target, status_code=303)

    async def forbidden(request: Request, exc: Exception) -> Response:
        page = await get_page(request, request.app.state.console)
        roles = ", ".join(sorted(exc.roles)) if isinstance(exc, Forbidden) else ""
        return page.render("message.html", 403, heading=page.t("forbidden", roles=roles))

    async def csrf_failed(request: Request, exc: Exception) -> Response:
        page = await get_page(request, request.app.state.console)
        return page.render("message.html", 403, heading=page.t("csrf_failed"))

    async def upstream_down(request: Request, exc: Exception) -> Response:
        page = await get_page(request, request.app.state.console)
        service = exc.service if isinstance(exc, UpstreamDown) else "?"
        return page.render("message.html", 503, heading=page.t("upstream_down", service=service))

    async def invalid(request: Request, exc: Exception) -> Response:
        page = await get_page(request, request.app.state.console)
        errors = exc.errors() if isinstance(exc, RequestValidationError) else []
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg')}" for e in errors
        )
        return page.render("message.html", 422, heading=detail or "invalid request")

    async def http_error(request: Request, exc: Exception) -> Response:
        page = await get_page(request, request.app.state.console)
        status = exc.status_code if isinstance(exc, StarletteHTTPException) else 500
        heading = page.t("not_found") if status == 404 else str(getattr(exc, "detail", ""))
        return page.render("message.html", status, heading=heading)

    app.add_exception_handler(SignInRequired, sign_in_first)
    app.add_exception_handler(Forbidden, forbidden)
    app.add_exception_handler(CsrfFailed, csrf_failed)
    app.add_exception_handler(UpstreamDown, upstream_down)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)


def run() -> None:
    run_service(ConsoleSettings(), build_app)
