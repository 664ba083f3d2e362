"""The one error a webhook route raises before a platform adapter sees the request."""

from __future__ import annotations

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
