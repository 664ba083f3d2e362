"""Douyin's (抖店) push verification: event-sign over app-id, body and secret; no timestamp."""

from __future__ import annotations

from collections.abc import Mapping

from lvyue.common.platform_signing.primitives import (
    SecretLookup,
    SignatureError,
    app_secret,
    check_sign,
    douyin_event_sign,
    header,
)

DOUYIN_APP_ID_HEADER = "app-id"
DOUYIN_SIGN_HEADER = "event-sign"
DOUYIN_SIGN_METHOD_HEADER = "sign-method"


def verify_douyin_event(
    headers: Mapping[str, str], body: bytes, secrets: SecretLookup, *, platform: str
) -> str:
    """抖店's push: event-sign = md5(app-id + body + secret), sign-method md5 only; the app-id.

    The scheme signs no timestamp, so there is no freshness check.
    """
    signature = header(headers, DOUYIN_SIGN_HEADER)
    if signature is None:
        raise SignatureError(f"header {DOUYIN_SIGN_HEADER} missing")
    app_key = header(headers, DOUYIN_APP_ID_HEADER)
    if app_key is None:
        raise SignatureError(f"header {DOUYIN_APP_ID_HEADER} missing")
    method = (header(headers, DOUYIN_SIGN_METHOD_HEADER) or "md5").lower()
    if method != "md5":
        raise SignatureError(f"header {DOUYIN_SIGN_METHOD_HEADER} {method!r} not supported")
    secret = app_secret(secrets, platform, app_key, DOUYIN_APP_ID_HEADER)
    check_sign(douyin_event_sign(app_key, secret, body), signature.lower())
    return app_key
