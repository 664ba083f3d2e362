"""A webhook's JSON body decoded within the kernel's limits (lvyue.common.bounded_json), each
refusal answered as the webhook contract says: 415 for a body that is not UTF-8, 422 with where
and why for every other limit.
"""

from __future__ import annotations

from typing import Any

from lvyue.common.bounded_json import JsonLimits, JsonRefused, parse_json
from lvyue.common.webhooks.errors import WebhookRejected, unprocessable


def decode_json(body: bytes, limits: JsonLimits | None = None) -> dict[str, Any]:
    """The body's JSON object, every limit checked; raises WebhookRejected."""
    data = decode_json_document(body, limits)
    if not isinstance(data, dict):
        raise unprocessable("must be a JSON object")
    return data


def decode_json_document(
    body: bytes, limits: JsonLimits | None = None
) -> dict[str, Any] | list[Any]:
    """The body's JSON object or array (抖店 pushes an array), every limit checked."""
    try:
        return parse_json(body, limits)
    except JsonRefused as exc:
        if exc.not_utf8:
            raise WebhookRejected(415, exc.reason, "unsupported_media_type") from exc
        raise unprocessable(exc.reason, exc.path) from exc


def peek_text(body: bytes, field: str, limits: JsonLimits | None = None) -> str | None:
    """A top-level text field of a body not yet trusted (to find the secret that signs it);
    None when the body is not a JSON object within limits or the field is not text."""
    return peek_texts(body, (field,), limits)[0]


def peek_texts(
    body: bytes, fields: tuple[str, ...], limits: JsonLimits | None = None
) -> tuple[str | None, ...]:
    """peek_text for several fields, decoding the body once."""
    try:
        data = decode_json(body, limits)
    except WebhookRejected:
        return tuple(None for _ in fields)
    values = (data.get(field) for field in fields)
    return tuple(v.strip() if isinstance(v, str) and v.strip() else None for v in values)
