"""Taobao's (TOP) signatures: a push's verification (SpiUtils.checkSign4TextRequest over the
system parameters, the headers top-sign-list names, and the body), and an API call's signed
parameters (a form POST to the gateway: method, app_key, session, timestamp "yyyy-MM-dd
HH:mm:ss" GMT+8, format=json, v=2.0, sign_method, the business parameters, sign)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from urllib.parse import unquote_plus

from lvyue.common.platform_signing.primitives import (
    DEFAULT_TOLERANCE,
    SIGN_METHODS,
    SecretLookup,
    SignatureError,
    app_secret,
    check_fresh,
    check_sign,
    china_time_text,
    china_timestamp,
    given_sign,
    normalize_headers,
    required_param,
    sign,
    system_params,
)

TOP_SIGN_LIST_HEADER = "top-sign-list"
# TOP's system parameters as spelled in its docs; the spelling is part of the signed string.
TOP_SYSTEM_PARAMS = (
    "app_key",
    "customerId",
    "format",
    "method",
    "partner_id",
    "session",
    "sign_method",
    "simplify",
    "target_app_key",
    "timestamp",
    "v",
)


def top_signed_params(headers: Mapping[str, str]) -> dict[str, str]:
    """TOP's system parameters in the request, plus the headers top-sign-list names."""
    params = system_params(headers, TOP_SYSTEM_PARAMS)
    given = normalize_headers(headers)
    for name in (given.get(TOP_SIGN_LIST_HEADER) or "").split(","):
        if name.strip():
            # SpiUtils URL-decodes the listed headers (java.net.URLDecoder: "+" is a space).
            params[name.strip()] = unquote_plus(given.get(name.strip().lower(), ""))
    return params


def verify_top(
    headers: Mapping[str, str],
    body: bytes,
    secrets: SecretLookup,
    *,
    platform: str,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> str:
    """TOP's SPI rule (SpiUtils.checkSign4TextRequest) over params and body; the app_key."""
    params = top_signed_params(headers)
    given = given_sign(headers)
    app_key = required_param(params, "app_key")
    moment = china_timestamp(params)
    method = (params.get("sign_method") or "md5").lower()
    if method not in SIGN_METHODS:
        raise SignatureError(f"sign_method {method!r} not supported")
    secret = app_secret(secrets, platform, app_key, "app_key")
    check_sign(sign(params, secret, body, method), given)
    check_fresh(moment, now, tolerance)
    return app_key


def top_call_params(
    method: str,
    business: Mapping[str, str],
    *,
    app_key: str,
    secret: str,
    session: str,
    now: datetime,
) -> dict[str, str]:
    """The signed form of a TOP gateway call (sign_method md5); an app-level call (the message
    service's) carries no session."""
    params = {
        "method": method,
        "app_key": app_key,
        **({"session": session} if session else {}),
        "timestamp": china_time_text(now),
        "format": "json",
        "v": "2.0",
        "sign_method": "md5",
        **business,
    }
    params["sign"] = sign(params, secret)
    return params
