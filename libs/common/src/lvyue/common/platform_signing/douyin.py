"""Douyin's (抖店) signatures: the push's event-sign over app-id, body and secret (no timestamp),
and the open API's request sign over the common parameters and the JSON business parameters.

API calls (op.jinritemai.com 签名算法, and the doudian SDKs' SignUtil): the method's dots become
the path (order.searchList -> POST /order/searchList); app_key, method, access_token, timestamp
(unix seconds), v=2, sign_method and sign go in the query; the business parameters are the body,
JSON with keys sorted and no spaces (`param_json`), and
    sign = hex md5(secret + "app_key"+k + "method"+m + "param_json"+p + "timestamp"+t + "v"+v
                   + secret)                                        sign_method=md5
    sign = hex hmac_sha256(secret, the same wrapped string)         sign_method=hmac-sha256
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from typing import Any

from lvyue.common.platform_signing.primitives import (
    SecretLookup,
    SignatureError,
    app_secret,
    check_sign,
    douyin_event_sign,
    header,
    md5_wrapped,
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


DOUYIN_API_VERSION = "2"


def douyin_param_json(business: Mapping[str, Any]) -> str:
    """The business parameters as 抖店 signs them: JSON, keys sorted, no spaces."""
    return json.dumps(business, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def douyin_api_sign(
    app_key: str, secret: str, method: str, param_json: str, timestamp: str, sign_method: str
) -> str:
    """The `sign` of an open API call (lower-case hex), md5 or hmac-sha256."""
    message = (
        f"app_key{app_key}method{method}param_json{param_json}"
        f"timestamp{timestamp}v{DOUYIN_API_VERSION}"
    )
    if sign_method == "md5":
        return md5_wrapped(secret, message)
    if sign_method == "hmac-sha256":
        wrapped = f"{secret}{message}{secret}".encode()
        return hmac.new(secret.encode(), wrapped, "sha256").hexdigest()
    raise ValueError(f"sign method {sign_method!r} not supported")
