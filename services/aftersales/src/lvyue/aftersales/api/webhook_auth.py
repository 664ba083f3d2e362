"""Authenticating the canonical after-sale webhook, signed exactly like the canonical order one.

Headers:
    X-Lvyue-Timestamp: unix seconds when the sender signed
    X-Lvyue-Signature: sha256=<hex HMAC-SHA256 of f"{timestamp}.".encode() + body>
    X-Lvyue-Delivery:  the sender's delivery id (optional; used for de-duplication): 1 to 128
                       printable ASCII characters, else 422 naming it
The shop is the body's `shop_id`; the secret is looked up as ("lvyue", shop_id), falling back
to the platform-wide "*" secret; a case on another platform's order needs the secret configured
for "<platform>/<shop_id>" or "<platform>/*" (lvyue.common.webhooks.binding).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from fastapi import HTTPException

from lvyue.common.security import verify_hmac_sha256, verify_timestamp
from lvyue.common.webhooks import delivery_id as checked_delivery_id
from lvyue.common.webhooks import secret_key
from lvyue.common.webhooks.errors import PayloadError

PLATFORM = "lvyue"
SIGNATURE_HEADER = "x-lvyue-signature"
TIMESTAMP_HEADER = "x-lvyue-timestamp"
DELIVERY_HEADER = "X-Lvyue-Delivery"
TOLERANCE = timedelta(minutes=5)
_PREFIX = "sha256="

SecretLookup = Callable[[str, str], str | None]


class SignatureError(Exception):
    """The request cannot be authenticated; says what is wrong (never the secret)."""


def verify(
    headers: Mapping[str, str], body: bytes, secrets: SecretLookup, *, now: datetime
) -> None:
    """Raises SignatureError unless the body is signed by the shop's secret, recently.

    `headers` must have lower-cased names (Starlette's do).
    """
    signature = headers.get(SIGNATURE_HEADER, "").strip()
    timestamp = headers.get(TIMESTAMP_HEADER, "").strip()
    if not signature:
        raise SignatureError("header X-Lvyue-Signature missing")
    if not timestamp:
        raise SignatureError("header X-Lvyue-Timestamp missing")
    if not (timestamp.isascii() and timestamp.isdigit()):
        raise SignatureError("header X-Lvyue-Timestamp malformed: expected unix seconds")
    if not signature.startswith(_PREFIX):
        raise SignatureError("header X-Lvyue-Signature malformed: expected sha256=<hex>")
    key, unknown = secret_key(body)  # the platform and shop the body (not yet trusted) names
    secret = secrets(PLATFORM, key)
    if secret is None:
        raise SignatureError(unknown)
    message = f"{timestamp}.".encode() + body
    if not verify_hmac_sha256(secret, message, signature.removeprefix(_PREFIX), encoding="hex"):
        raise SignatureError("signature mismatch")
    # Checked after the signature so only authentic senders learn about clock skew.
    if not verify_timestamp(timestamp, now, TOLERANCE):
        raise SignatureError(f"header X-Lvyue-Timestamp outside the allowed {TOLERANCE} of now")


def delivery_id(headers: Mapping[str, str]) -> str | None:
    """The sender's delivery id, None when it sent none; a 422 naming the header unless it is
    1 to 128 printable ASCII characters (the kernel's rule for every webhook's delivery id)."""
    try:
        return checked_delivery_id(headers, DELIVERY_HEADER)
    except PayloadError as exc:
        errors = [{"loc": ["header", loc], "msg": msg} for loc, msg in exc.field_errors]
        raise HTTPException(422, errors) from exc
