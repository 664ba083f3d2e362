"""The after-sale webhook's signature: the canonical scheme, checked before the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lvyue.aftersales.api.webhook_auth import SignatureError, verify
from tests.support.webhooks import lvyue_headers

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
BODY = b'{"shop_id": "tb-shop-001", "type": "refund_only"}'
OTHER_SHOP = BODY.replace(b"tb-shop-001", b"unknown")


def _secrets(platform: str, shop: str) -> str | None:
    return {("lvyue", "tb-shop-001"): "s3cret"}.get((platform, shop))


def _headers(body: bytes = BODY, secret: str = "s3cret", at: datetime = NOW) -> dict[str, str]:
    return {
        k.lower(): v for k, v in lvyue_headers(body, secret, timestamp=int(at.timestamp())).items()
    }


def test_a_body_signed_by_its_shop_now_passes() -> None:
    verify(_headers(), BODY, _secrets, now=NOW)


@pytest.mark.parametrize(
    ("headers", "body", "message"),
    [
        (_headers(secret="other"), BODY, "signature mismatch"),
        (_headers(), BODY + b" ", "signature mismatch"),
        (_headers(at=NOW - timedelta(minutes=6)), BODY, "outside the allowed"),
        ({}, BODY, "X-Lvyue-Signature missing"),
        (_headers(OTHER_SHOP), OTHER_SHOP, "unknown shop 'unknown'"),
    ],
    ids=["wrong-secret", "tampered", "stale", "unsigned", "unknown-shop"],
)  # fmt: skip
def test_anything_else_is_refused_saying_why(
    headers: dict[str, str], body: bytes, message: str
) -> None:
    with pytest.raises(SignatureError, match=message):
        verify(headers, body, _secrets, now=NOW)
