"""Every request body bounded before a route reads it. FastAPI reads a JSON or form body whole,
and before the route's dependencies run (authentication included): without a bound, anyone
could make a service hold any number of bytes in memory."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Where a route finds the limit in force (a webhook's reader names the lower of its own and it).
BODY_LIMIT_KEY = "lvyue.max_body_bytes"


class BodyTooLarge(HTTPException):
    """Raised by the body's reader once past the limit: a 413 naming the limit and its setting."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over {limit} bytes (LVYUE_MAX_BODY_BYTES)")
        self.limit = limit


class BodyLimitMiddleware:
    """Counts the body's bytes as the app reads them and stops the read past `max_bytes`,
    whatever length was declared (or none: a body streamed in chunks). Nothing is refused
    before a route reads: a webhook answers its own refusal (its reason, its counter)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        scope[BODY_LIMIT_KEY] = limit
        received = 0

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, bounded_receive, send)
