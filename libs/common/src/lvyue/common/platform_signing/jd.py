"""JD's (JOS) signatures: a push's verification (the API rule with the body as
360buy_param_json, md5 only), and an API call's signed parameters (a form POST to the gateway:
method, app_key, access_token, timestamp "yyyy-MM-dd HH:mm:ss" GMT+8, v=2.0, format=json, the
business parameters as one JSON object in 360buy_param_json, sign)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from lvyue.common.platform_signing.primitives import (
    DEFAULT_TOLERANCE,
    SecretLookup,
    SignatureError,
    app_secret,
    check_fresh,
    check_sign,
    china_time_text,
    china_timestamp,
    given_sign,
    required_param,
    sign,
    system_params,
)

JOS_BODY_PARAM = "360buy_param_json"
JOS_SYSTEM_PARAMS = (
    "access_token",
    "app_key",
    "format",
    "method",
    "sign_method",
    "timestamp",
    "v",
)


def verify_jos(
    headers: Mapping[str, str],
    body: bytes,
    secrets: SecretLookup,
    *,
    platform: str,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> str:
    """JOS's API rule with the body as 360buy_param_json (md5 only); the app_key."""
    params = system_params(headers, JOS_SYSTEM_PARAMS)
    given = given_sign(headers)
    app_key = required_param(params, "app_key")
    moment = china_timestamp(params)
    if (params.get("sign_method") or "md5").lower() != "md5":
        raise SignatureError(f"sign_method {params['sign_method']!r} not supported")
    try:
        params[JOS_BODY_PARAM] = body.decode()
    except UnicodeDecodeError:
        raise SignatureError("body is not UTF-8 text") from None
    secret = app_secret(secrets, platform, app_key, "app_key")
    check_sign(sign(params, secret), given)
    check_fresh(moment, now, tolerance)
    return app_key


def jos_call_params(
    method: str,
    business: Mapping[str, Any],
    *,
    app_key: str,
    secret: str,
    access_token: str,
    now: datetime,
) -> dict[str, str]:
    """The signed form of a JOS gateway call."""
    params = {
        "method": method,
        "app_key": app_key,
        "access_token": access_token,
        "timestamp": china_time_text(now),
        "v": "2.0",
        "format": "json",
        JOS_BODY_PARAM: json.dumps(business, separators=(",", ":"), ensure_ascii=False),
    }
    params["sign"] = sign(params, secret)
    return params
