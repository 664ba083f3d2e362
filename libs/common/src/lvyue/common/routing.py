"""How every route of every service reads its request before its code runs: JSON bodies
through the kernel's bounded parser (`lvyue.common.bounded_json`: depth, number sizes, UTF-8,
duplicate keys, text PostgreSQL cannot store), and paths without control characters.

FastAPI reads a JSON body with the standard library: nesting, a 4,000-digit number and a
U+0000 in a name all reach the route, and PostgreSQL then refuses the text with a 500; a path
parameter holding %00 does the same. Every service builds its routers with `api_router`, so
each route is a `BoundedRoute`; a webhook reads its own body (`lvyue.common.webhooks`), with
the same limits and its own refusals."""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from email.message import Message
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, params
from fastapi.routing import APIRoute

from lvyue.common.body_limit import unsupported_coding
from lvyue.common.bounded_json import JsonRefused, parse_json

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class BoundedRoute(APIRoute):
    """A route whose request is checked before FastAPI reads it for the endpoint."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        field = self.body_field
        reads_json = field is not None and not isinstance(field.field_info, params.Form)

        async def bounded(request: Request) -> Response:
            found = _CONTROL.search(request.scope["path"])
            if found:
                raise HTTPException(
                    400, f"path contains a control character (U+{ord(found.group()):04X})"
                )
            if reads_json:
                _check_json_media_type(request.headers.get("content-type"))
                coding = unsupported_coding(request.headers.getlist("content-encoding"))
                if coding is not None:
                    raise HTTPException(
                        415, f"Content-Encoding {coding!r}: send the body uncompressed (identity)"
                    )
            return await handler(BoundedJsonRequest(request.scope, request.receive))

        return bounded


class BoundedJsonRequest(Request):
    """A request whose JSON body is decoded within the kernel's limits: a body that is not
    UTF-8 (or says another charset) is a 415, any other limit a 422 saying where and why."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            charset = _charset(self.headers.get("content-type"))
            if charset not in (None, "utf-8", "utf8"):
                raise HTTPException(415, f"charset {charset}: a JSON body is UTF-8 (RFC 8259)")
            try:
                self._json = parse_json(await self.body())
            except JsonRefused as exc:
                if exc.not_utf8:
                    raise HTTPException(415, exc.reason) from exc
                where: list[str | int] = ["body", *exc.path]
                error = {"loc": where, "msg": exc.reason, "type": "json_invalid"}
                raise HTTPException(422, [error]) from exc
        return self._json


def _check_json_media_type(content_type: str | None) -> None:
    """A body declared as something else than JSON is a 415 (none declared: FastAPI reads it
    as bytes, and the model refuses them with a 422)."""
    if not content_type:
        return
    message = Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    if message.get_content_maintype() != "application" or not (
        subtype == "json" or subtype.endswith("+json")
    ):
        raise HTTPException(
            415, f"content-type {message.get_content_type()}: this route reads application/json"
        )


def _charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    message = Message()
    message["content-type"] = content_type
    charset = message.get_param("charset")
    return charset.lower() if isinstance(charset, str) else None


def api_router(**options: Any) -> APIRouter:
    """The routers of every service: their routes are `BoundedRoute`s."""
    return APIRouter(route_class=BoundedRoute, **options)
