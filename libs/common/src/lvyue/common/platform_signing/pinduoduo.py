"""Pinduoduo's signatures: a push's verification (the API rule with the raw body appended, md5,
unix seconds), an API call's common parameters, and the message service's connection sign.

API calls (open.pinduoduo.com 签名规则; the PDD SDKs' PopHttpClient): a form POST to the
gateway with type, client_id, access_token, timestamp (unix seconds), data_type=JSON,
version=V1 and the business parameters, signed as TOP signs (md5, upper-case hex).
The message service (its Java SDK's WsClient): wss://message-api.pinduoduo.com/message/
{client_id}/{timestamp in ms}/{sign}, sign = base64(hex md5(client_id + timestamp +
client_secret)) (DigestUtil.md5Base64Sign32: the 32 hex characters, base64-encoded).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta

from lvyue.common.platform_signing.primitives import (
    DEFAULT_TOLERANCE,
    TIMESTAMP,
    SecretLookup,
    SignatureError,
    app_secret,
    check_fresh,
    check_sign,
    given_sign,
    required_param,
    sign,
    system_params,
    unix_seconds,
)

PDD_SYSTEM_PARAMS = ("access_token", "client_id", "data_type", "timestamp", "type", "version")
PDD_CLIENT_ID = "client_id"


def verify_pdd(
    headers: Mapping[str, str],
    body: bytes,
    secrets: SecretLookup,
    *,
    platform: str,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> str:
    """Pinduoduo's API rule with the raw body appended (md5, unix-seconds timestamp); client_id."""
    params = system_params(headers, PDD_SYSTEM_PARAMS)
    given = given_sign(headers)
    client_id = required_param(params, PDD_CLIENT_ID)
    timestamp = required_param(params, TIMESTAMP)
    if not (timestamp.isascii() and timestamp.isdigit()):
        raise SignatureError("parameter timestamp malformed: expected unix seconds")
    secret = app_secret(secrets, platform, client_id, PDD_CLIENT_ID)
    check_sign(sign(params, secret, body), given)
    check_fresh(timestamp, now, tolerance)
    return client_id


def pdd_call_params(
    method: str,
    business: Mapping[str, str],
    *,
    client_id: str,
    client_secret: str,
    access_token: str,
    now: datetime,
) -> dict[str, str]:
    """The signed form of a gateway call: the common parameters, the business ones, `sign`."""
    params = {
        "type": method,
        "client_id": client_id,
        "access_token": access_token,
        "timestamp": unix_seconds(now),
        "data_type": "JSON",
        "version": "V1",
        **business,
    }
    params["sign"] = sign(params, client_secret)
    return params


def pdd_message_sign(client_id: str, timestamp_ms: str, client_secret: str) -> str:
    """The message service's connection sign (see the module)."""
    digest = hashlib.md5(f"{client_id}{timestamp_ms}{client_secret}".encode()).hexdigest()
    return base64.b64encode(digest.encode()).decode()
