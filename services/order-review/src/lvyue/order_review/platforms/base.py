"""What a sales-platform adapter does: verify a webhook, name it, and map it to a CanonicalOrder.

Adapters are pure: headers, raw body and parsed payload in; a CanonicalOrder or an error out.
The webhook route persists and acknowledges; adapters never touch a database or the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from lvyue.common.contracts.order import CanonicalOrder
from lvyue.common.platform_signing import SecretLookup, SignatureError, header, normalize_headers
from lvyue.common.platform_signing.pushes import SignedPushVerifier
from lvyue.common.webhooks.errors import FieldError, PayloadError

__all__ = [
    "FieldError",
    "FieldErrors",
    "PayloadError",
    "PlatformAdapter",
    "SecretLookup",
    "SignatureError",
    "header",
    "normalize_headers",
]

_M = TypeVar("_M", bound=BaseModel)


class FieldErrors:
    """Collects field errors across a whole payload so a sender learns of all of them at once."""

    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, loc: str, msg: str) -> None:
        self.items.append((loc, msg))

    def build(
        self,
        model: type[_M],
        data: Mapping[str, Any],
        paths: Mapping[str, str | None],
        *,
        context: dict[str, Any] | None = None,
    ) -> _M | None:
        """Validate data as model (with the validation context, if any); report its errors
        under the platform's paths.

        paths maps a model field to the platform's field path; None means "already
        reported elsewhere" and drops that error; unmapped fields keep their own name.
        """
        try:
            return model.model_validate(data, context=context)
        except ValidationError as exc:
            for err in exc.errors():
                field = str(err["loc"][0]) if err["loc"] else ""
                loc = paths.get(field, field)
                if loc is not None:
                    absent = err["type"] == "missing" or err["input"] is None
                    self.add(loc, "required" if absent else err["msg"])
            return None


class PlatformAdapter(SignedPushVerifier, Protocol):
    """One sales platform's webhook dialect: its name and signature check (`verify`), and
    how it reads an order push."""

    def delivery_id(self, headers: Mapping[str, str], payload: Mapping[str, Any]) -> str | None:
        """The platform's id of this delivery, for de-duplication; None if it sends none;
        raises PayloadError naming the header when it is not one (lvyue.common.webhooks)."""
        ...

    def shop_id(self, headers: Mapping[str, str], payload: Mapping[str, Any]) -> str:
        """The shop the webhook belongs to; raises PayloadError if it cannot be found."""
        ...

    def to_canonical(
        self,
        headers: Mapping[str, str],
        payload: Mapping[str, Any],
        *,
        now: datetime | None = None,
    ) -> CanonicalOrder:
        """Map the payload as an order taken in at `now` (the request's clock: the order's
        time may not be more than a day after it; without it, only its earliest bound holds);
        raises PayloadError or pydantic.ValidationError."""
        ...
