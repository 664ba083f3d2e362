"""JD's (JOS) push verification: the API rule with the body as 360buy_param_json, md5 only."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from lvyue.common.platform_signing.primitives import (
    DEFAULT_TOLERANCE,
    SecretLookup,
    SignatureError,
    app_secret,
    check_fresh,
    check_sign,
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
