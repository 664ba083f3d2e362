"""The "lvyue" canonical webhook: timestamped signature, shop from the body, body as-is."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from lvyue.common.contracts.order import CanonicalOrder
from lvyue.common.security import sign_hmac_sha256
from lvyue.order_review.platforms import (
    ADAPTERS,
    CanonicalAdapter,
    PayloadError,
    SignatureError,
)
from lvyue.order_review.platforms.canonical import signed_message

SAMPLE = Path(__file__).parents[2] / "data" / "lvyue_order.json"
SHOP = "tb-shop-001"
SECRET = "lvyue-shop-secret"
NOW = datetime(2024, 6, 18, 14, 45, tzinfo=UTC)
adapter = CanonicalAdapter()


def secrets(platform: str, shop: str) -> str | None:
    # The sample is a Taobao order relayed in the lvyue format: its secret is configured so.
    return SECRET if (platform, shop) == ("lvyue", f"taobao/{SHOP}") else None


def headers_for(body: bytes, *, at: datetime = NOW, secret: str = SECRET) -> dict[str, str]:
    timestamp = str(int(at.timestamp()))
    digest = sign_hmac_sha256(secret, f"{timestamp}.".encode() + body).hex()
    return {
        "X-Lvyue-Timestamp": timestamp,
        "X-Lvyue-Signature": f"sha256={digest}",
        "X-Lvyue-Delivery": "dlv-0001",
    }


@pytest.fixture
def raw() -> bytes:
    return SAMPLE.read_bytes()


@pytest.fixture
def payload(raw: bytes) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(raw)
    return data


def test_signed_message_is_timestamp_dot_body() -> None:
    assert signed_message("1718721900", b"{}") == b"1718721900.{}"


def test_valid_request_verifies(raw: bytes) -> None:
    adapter.verify(headers_for(raw), raw, secrets, now=NOW)


def test_headers_are_case_insensitive(raw: bytes) -> None:
    lower = {k.lower(): v for k, v in headers_for(raw).items()}
    adapter.verify(lower, raw, secrets, now=NOW)


def test_clock_skew_within_tolerance_is_accepted(raw: bytes) -> None:
    adapter.verify(headers_for(raw, at=NOW - timedelta(minutes=5)), raw, secrets, now=NOW)
    adapter.verify(headers_for(raw, at=NOW + timedelta(minutes=4)), raw, secrets, now=NOW)


@pytest.mark.parametrize("offset", [timedelta(minutes=-6), timedelta(minutes=6)])
def test_stale_or_future_timestamp_is_refused(raw: bytes, offset: timedelta) -> None:
    with pytest.raises(SignatureError, match="X-Lvyue-Timestamp outside"):
        adapter.verify(headers_for(raw, at=NOW + offset), raw, secrets, now=NOW)


def test_tolerance_is_configurable(raw: bytes) -> None:
    strict = CanonicalAdapter(tolerance=timedelta(seconds=30))
    with pytest.raises(SignatureError, match="outside"):
        strict.verify(headers_for(raw, at=NOW - timedelta(minutes=1)), raw, secrets, now=NOW)


def test_tampered_body_is_a_mismatch(raw: bytes) -> None:
    tampered = raw.replace(b'"345.90"', b'"3.90"')
    assert tampered != raw
    with pytest.raises(SignatureError, match="signature mismatch"):
        adapter.verify(headers_for(raw), tampered, secrets, now=NOW)


def test_replayed_signature_with_a_fresh_timestamp_is_a_mismatch(raw: bytes) -> None:
    # The timestamp is signed: moving it forward breaks the signature.
    old = headers_for(raw, at=NOW - timedelta(hours=1))
    old["X-Lvyue-Timestamp"] = str(int(NOW.timestamp()))
    with pytest.raises(SignatureError, match="signature mismatch"):
        adapter.verify(old, raw, secrets, now=NOW)


def test_wrong_secret_is_a_mismatch(raw: bytes) -> None:
    with pytest.raises(SignatureError, match="signature mismatch"):
        adapter.verify(headers_for(raw, secret="other"), raw, secrets, now=NOW)


@pytest.mark.parametrize("missing", ["X-Lvyue-Signature", "X-Lvyue-Timestamp"])
def test_missing_header_is_named(raw: bytes, missing: str) -> None:
    headers = headers_for(raw)
    del headers[missing]
    with pytest.raises(SignatureError, match=f"header {missing} missing"):
        adapter.verify(headers, raw, secrets, now=NOW)


@pytest.mark.parametrize("signature", ["md5=abcd", "abcdef", "SHA256 abcd"])
def test_signature_without_sha256_prefix_is_malformed(raw: bytes, signature: str) -> None:
    headers = headers_for(raw) | {"X-Lvyue-Signature": signature}
    with pytest.raises(SignatureError, match="X-Lvyue-Signature malformed"):
        adapter.verify(headers, raw, secrets, now=NOW)


@pytest.mark.parametrize("digest", ["", "zz", "签名", "ab" * 31])
def test_malformed_hex_digest_is_a_mismatch(raw: bytes, digest: str) -> None:
    headers = headers_for(raw) | {"X-Lvyue-Signature": f"sha256={digest}"}
    with pytest.raises(SignatureError, match="signature mismatch"):
        adapter.verify(headers, raw, secrets, now=NOW)


@pytest.mark.parametrize("timestamp", ["tomorrow", "2024-06-18T14:45:00Z", "-1", "1718721900.0"])
def test_timestamp_must_be_unix_seconds(raw: bytes, timestamp: str) -> None:
    digest = sign_hmac_sha256(SECRET, f"{timestamp}.".encode() + raw).hex()
    headers = {"X-Lvyue-Timestamp": timestamp, "X-Lvyue-Signature": f"sha256={digest}"}
    with pytest.raises(SignatureError, match="X-Lvyue-Timestamp malformed"):
        adapter.verify(headers, raw, secrets, now=NOW)


def test_unknown_shop_is_refused(raw: bytes, payload: dict[str, Any]) -> None:
    payload["shop_id"] = "stranger"
    body = json.dumps(payload).encode()
    with pytest.raises(SignatureError, match="no secret for taobao shop 'stranger'"):
        adapter.verify(headers_for(body), body, secrets, now=NOW)


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"shop_id": 7}', b"\xff\xfe"])
def test_body_without_a_shop_cannot_be_verified(body: bytes) -> None:
    with pytest.raises(SignatureError, match="cannot identify the shop"):
        adapter.verify(headers_for(body), body, secrets, now=NOW)


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"shop_id": 7}', b"\xff\xfe"])
def test_body_without_a_shop_is_verified_with_the_platform_wide_secret(body: bytes) -> None:
    def platform_secret(platform: str, shop: str) -> str | None:
        return SECRET if (platform, shop) == ("lvyue", "*") else None

    adapter.verify(headers_for(body), body, platform_secret, now=NOW)  # no SignatureError
    tampered = body + b" "
    with pytest.raises(SignatureError, match="signature mismatch"):
        adapter.verify(headers_for(body), tampered, platform_secret, now=NOW)


def test_identity_comes_from_header_and_body(raw: bytes, payload: dict[str, Any]) -> None:
    headers = {k.lower(): v for k, v in headers_for(raw).items()}
    assert adapter.delivery_id(headers, payload) == "dlv-0001"
    assert adapter.delivery_id({}, payload) is None
    assert adapter.shop_id(headers, payload) == SHOP


def test_missing_shop_id_is_a_payload_error(payload: dict[str, Any]) -> None:
    del payload["shop_id"]
    for body in (payload, [payload]):
        with pytest.raises(PayloadError) as exc:
            adapter.shop_id({}, body)  # type: ignore[arg-type]
        assert [loc for loc, _ in exc.value.field_errors] == ["shop_id"]


def test_non_object_body_raises_validation_error(raw: bytes) -> None:
    with pytest.raises(ValidationError):
        adapter.to_canonical(headers_for(raw), [])  # type: ignore[arg-type]


def test_body_is_the_canonical_order(raw: bytes, payload: dict[str, Any]) -> None:
    order = adapter.to_canonical(headers_for(raw), payload)
    assert order == CanonicalOrder.model_validate_json(raw)
    assert order.platform_order_id == "3914567281234567890"


def test_invalid_body_raises_validation_error(raw: bytes, payload: dict[str, Any]) -> None:
    payload["platform_order_id"] = 3914567281234567890  # a number may have been rounded
    del payload["lines"]
    with pytest.raises(ValidationError) as exc:
        adapter.to_canonical(headers_for(raw), payload)
    assert {e["loc"] for e in exc.value.errors()} == {("platform_order_id",), ("lines",)}


def test_registered_under_lvyue() -> None:
    assert isinstance(ADAPTERS.get("lvyue"), CanonicalAdapter)
