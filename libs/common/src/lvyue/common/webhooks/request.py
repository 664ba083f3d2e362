"""Reading a webhook request: the body within its size limit, JSON by media type (and sent
uncompressed), decoded."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from lvyue.common.body_limit import BODY_LIMIT_KEY, BodyTooLarge, unsupported_coding
from lvyue.common.bounded_json import JsonLimits
from lvyue.common.webhooks.errors import WebhookRejected
from lvyue.common.webhooks.json_body import decode_json, decode_json_document

MAX_BODY_BYTES = 1024 * 1024  # 1 MiB: no real order or after-sale comes near it


def _check_media_type(request: Request) -> None:
    media_type, _, params = request.headers.get("content-type", "").partition(";")
    media_type = media_type.strip().lower()
    if media_type != "application/json":
        raise WebhookRejected(
            415,
            f"content-type must be application/json, got {media_type or 'none'!r}",
            "unsupported_media_type",
        )
    for param in params.split(";"):
        name, _, value = param.partition("=")
        charset = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in {"utf-8", "utf8"}:
            raise WebhookRejected(
                415,
                f"charset must be utf-8 (RFC 8259 JSON), got {charset!r}",
                "unsupported_media_type",
            )


def _check_encoding(request: Request) -> None:
    other = unsupported_coding(request.headers.getlist("content-encoding"))
    if other is not None:
        raise WebhookRejected(
            415,
            f"Content-Encoding {other!r} not supported: send the body uncompressed (identity)",
            "unsupported_media_type",
        )


async def read_body(request: Request, *, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body; 413 as soon as it is known to be over `limit` bytes, or over the app's
    own limit (LVYUE_MAX_BODY_BYTES) where that is lower: a webhook's refusal either way."""
    app_limit = request.scope.get(BODY_LIMIT_KEY)
    if isinstance(app_limit, int):
        limit = min(limit, app_limit)
    too_large = WebhookRejected(413, f"body over {limit} bytes", "too_large")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise too_large
    except BodyTooLarge:  # the app's limit stopped a body streamed without a length
        raise too_large from None
    return bytes(body)


async def read_json_request(
    request: Request, *, limit: int = MAX_BODY_BYTES, limits: JsonLimits | None = None
) -> tuple[bytes, dict[str, Any]]:
    """(raw body, its JSON object), every limit checked; raises WebhookRejected."""
    _check_media_type(request)
    _check_encoding(request)
    body = await read_body(request, limit=limit)
    return body, decode_json(body, limits)


async def read_json_document_request(
    request: Request, *, limit: int = MAX_BODY_BYTES, limits: JsonLimits | None = None
) -> tuple[bytes, dict[str, Any] | list[Any]]:
    """(raw body, its JSON object or array), every limit checked; raises WebhookRejected."""
    _check_media_type(request)
    _check_encoding(request)
    body = await read_body(request, limit=limit)
    return body, decode_json_document(body, limits)
