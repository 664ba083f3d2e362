"""Pinduoduo's push verification: the API rule with the raw body appended, md5, unix seconds."""

from __future__ import annotations

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
