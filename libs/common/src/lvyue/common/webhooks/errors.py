"""The errors of a webhook: the one a route raises before a platform adapter sees the request
(WebhookRejected), and the one an adapter raises for an authentic but unusable payload
(PayloadError)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class WebhookRejected(Exception):
    """A webhook refused: the status and what to tell the sender (a sentence, or field errors
    [{"loc": [...], "msg": ...}] for a 422), and the outcome label the intake metrics use."""

    def __init__(self, status: int, detail: str | list[dict[str, Any]], outcome: str) -> None:
        super().__init__(detail if isinstance(detail, str) else "; ".join(map(str, detail)))
        self.status = status
        self.detail = detail
        self.outcome = outcome  # too_large, unsupported_media_type, invalid, unauthorized


def unprocessable(msg: str, loc: list[str | int] | None = None) -> WebhookRejected:
    """A 422 naming where in the body (under "body") and what is wrong."""
    return WebhookRejected(422, [{"loc": ["body", *(loc or [])], "msg": msg}], "invalid")


FieldError = tuple[str, str]
"""(location, message); the location uses the platform's own field path or header name."""


class PayloadError(Exception):
    """The payload is authentic but unusable; field_errors name each offending field."""

    def __init__(self, field_errors: Iterable[FieldError]) -> None:
        self.field_errors: list[FieldError] = list(field_errors)
        if not self.field_errors:
            raise ValueError("PayloadError needs at least one field error")
        super().__init__("; ".join(f"{loc}: {msg}" for loc, msg in self.field_errors))
