"""The "lvyue" webhook: a CanonicalOrder posted as-is, signed over a timestamp and the body.

Headers:
    X-Lvyue-Timestamp: unix seconds when the sender signed
    X-Lvyue-Signature: sha256=<hex HMAC-SHA256 of f"{timestamp}.".encode() + body>
    X-Lvyue-Delivery:  the sender's delivery id (optional; used for de-duplication): 1 to 128
                       printable ASCII characters (lvyue.common.webhooks.delivery_id)
The shop is the body's `shop_id`; the secret is looked up as ("lvyue", shop_id), or, for an
order of another platform, as ("lvyue", "<platform>/<shop_id>") (lvyue.common.webhooks.binding).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from lvyue.common.contracts.order import CanonicalOrder, taking_in
from lvyue.common.security import verify_hmac_sha256, verify_timestamp
from lvyue.common.webhooks import delivery_id as checked_delivery_id
from lvyue.common.webhooks import secret_key

from .base import PayloadError, SecretLookup, SignatureError, header

SIGNATURE_HEADER = "X-Lvyue-Signature"
TIMESTAMP_HEADER = "X-Lvyue-Timestamp"
DELIVERY_HEADER = "X-Lvyue-Delivery"
_SIGNATURE_PREFIX = "sha256="
DEFAULT_TOLERANCE = timedelta(minutes=5)


def signed_message(timestamp: str, body: bytes) -> bytes:
    """The bytes a sender signs: the timestamp binds the body to a moment (no replays)."""
    return f"{timestamp}.".encode() + body


class CanonicalAdapter:
    """Adapter for lvyue's own format, used by integrators and by our tests and demo."""

    name = "lvyue"

    def __init__(self, tolerance: timedelta = DEFAULT_TOLERANCE) -> None:
        self.tolerance = tolerance

    def verify(
        self,
        headers: Mapping[str, str],
        body: bytes,
        secrets: SecretLookup,
        *,
        now: datetime,
    ) -> str:
        signature = header(headers, SIGNATURE_HEADER)
        if signature is None:
            raise SignatureError(f"header {SIGNATURE_HEADER} missing")
        timestamp = header(headers, TIMESTAMP_HEADER)
        if timestamp is None:
            raise SignatureError(f"header {TIMESTAMP_HEADER} missing")
        if not (timestamp.isascii() and timestamp.isdigit()):
            raise SignatureError(f"header {TIMESTAMP_HEADER} malformed: expected unix seconds")
        if not signature.startswith(_SIGNATURE_PREFIX):
            raise SignatureError(f"header {SIGNATURE_HEADER} malformed: expected sha256=<hex>")
        key, unknown = secret_key(body)  # the platform and shop the body speaks for
        secret = secrets(self.name, key)
        if secret is None:
            raise SignatureError(unknown)
        digest = signature.removeprefix(_SIGNATURE_PREFIX)
        if not verify_hmac_sha256(secret, signed_message(timestamp, body), digest, encoding="hex"):
            raise SignatureError("signature mismatch")
        # Checked after the signature so only authentic senders learn about clock skew.
        if not verify_timestamp(timestamp, now, self.tolerance):
            raise SignatureError(
                f"header {TIMESTAMP_HEADER} outside the allowed {self.tolerance} of now"
            )
        return key

    def delivery_id(self, headers: Mapping[str, str], payload: Mapping[str, Any]) -> str | None:
        return checked_delivery_id(headers, DELIVERY_HEADER)

    def shop_id(self, headers: Mapping[str, str], payload: Mapping[str, Any]) -> str:
        shop = payload.get("shop_id") if isinstance(payload, Mapping) else None
        if not isinstance(shop, str) or not shop.strip():
            raise PayloadError([("shop_id", "required: a non-empty string")])
        return shop.strip()

    def to_canonical(
        self,
        headers: Mapping[str, str],
        payload: Mapping[str, Any],
        *,
        now: datetime | None = None,
    ) -> CanonicalOrder:
        return CanonicalOrder.model_validate(payload, context=taking_in(now))
