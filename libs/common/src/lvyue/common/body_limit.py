"""Every request body bounded in size and time before a route reads it. FastAPI reads a JSON or
form body whole, and before the route's dependencies run (authentication included): without a
bound, anyone could make a service hold any number of bytes in memory, or hold a connection and
its buffer for ever by sending a byte now and then."""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lvyue.common.settings import KernelSettings

# Where a route finds the limit in force (a webhook's reader names the lower of its own and it).
BODY_LIMIT_KEY = "lvyue.max_body_bytes"


def unsupported_coding(content_encodings: list[str]) -> str | None:
    """The first content coding other than identity in a request's Content-Encoding headers;
    None when there is none. Nothing is inflated here (no zip bomb to bound): a compressed body
    would be read as it came, or refused as "not UTF-8", and a plain one saying it is compressed
    would pass unread, so a reader of JSON refuses it (415) naming it."""
    codings = (c.strip().lower() for value in content_encodings for c in value.split(","))
    other = next((c for c in codings if c not in ("", "identity")), None)
    return None if other is None else other[:64]


class BodyTooLarge(HTTPException):
    """Raised by the body's reader once past the limit: a 413 naming the limit and its setting."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over {limit} bytes (LVYUE_MAX_BODY_BYTES)")


class BodyTooSlow(HTTPException):
    """Raised by the body's reader when the whole body has not come within the time allowed."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            408, f"request body not received within {seconds:g} s (LVYUE_BODY_TIMEOUT_S)"
        )


class BodyLimitMiddleware:
    """Counts the body's bytes as the app reads them and stops the read past `max_bytes`,
    whatever length was declared (or none: a body streamed in chunks), or once `timeout_s` has
    passed since the first read without the whole body. Nothing is refused before a route
    reads: a webhook answers its own refusal (its reason, its counter)."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout_s: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, timeout_s = self.max_bytes, self.timeout_s
        scope[BODY_LIMIT_KEY] = limit
        loop = asyncio.get_running_loop()
        received = 0
        deadline: float | None = None
        complete = False

        async def bounded_receive() -> Message:
            nonlocal received, deadline, complete
            if complete:  # the body is in: what follows is a wait for the client to go
                return await receive()
            if deadline is None:
                deadline = loop.time() + timeout_s
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise BodyTooSlow(timeout_s) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
                complete = not message.get("more_body", False)
            return message

        await self.app(scope, bounded_receive, send)


def bound_bodies(app: Starlette, settings: KernelSettings) -> None:
    """Installs the limits of `settings` on `app`; call it before any function middleware
    (`app.middleware("http")`), which would wrap the limits' errors on the way out."""
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=settings.max_body_bytes, timeout_s=settings.body_timeout_s
    )
