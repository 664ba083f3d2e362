"""Checking the Chinese platforms' request signatures: sorted-parameter MD5/HMAC and app secrets.

Taobao (TOP), JD (JOS) and Pinduoduo sign the same way at heart: every parameter except `sign`,
sorted by name and concatenated as name+value, is hashed with the app secret and sent as
upper-case hex in the `sign` parameter; a `timestamp` parameter bounds replays. Douyin signs
the body alone but looks its secret up and compares its signature the same way.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from lvyue.common.security import verify_timestamp

from ._fields import china_time
from .base import SecretLookup, SignatureError, normalize_headers

SIGN = "sign"
TIMESTAMP = "timestamp"


def sorted_params(params: Mapping[str, str]) -> str:
    """The parameters except `sign`, sorted by name, concatenated as name+value."""
    return "".join(f"{name}{params[name]}" for name in sorted(params) if name != SIGN)


def md5_upper(secret: str, message: bytes) -> str:
    """HEX_UPPER(md5(secret + message + secret)): the message wrapped in the secret."""
    key = secret.encode()
    return hashlib.md5(key + message + key).hexdigest().upper()


def hmac_upper(secret: str, message: bytes, digest: str) -> str:
    """HEX_UPPER(hmac_<digest>(secret, message))."""
    return hmac.new(secret.encode(), message, digest).hexdigest().upper()


def system_params(given: Mapping[str, str], names: Iterable[str]) -> dict[str, str]:
    """The named parameters present, looked up case-insensitively, keyed as spelled in names.

    The spelling matters: the names are part of the signed string (TOP's customerId).
    """
    found = normalize_headers(given)
    return {name: found[name.lower()] for name in names if name.lower() in found}


def required_param(params: Mapping[str, str], name: str) -> str:
    """The parameter's value; raises SignatureError when it is missing or blank."""
    value = params.get(name)
    if not value:
        raise SignatureError(f"parameter {name} missing")
    return value


def given_sign(given: Mapping[str, str]) -> str:
    """The request's `sign` parameter; raises SignatureError when it is missing."""
    return required_param(normalize_headers(given), SIGN)


def china_timestamp(params: Mapping[str, str]) -> datetime:
    """The `timestamp` parameter as "yyyy-MM-dd HH:mm:ss" GMT+8; raises SignatureError."""
    moment = china_time(required_param(params, TIMESTAMP))
    if moment is None:
        raise SignatureError("parameter timestamp malformed: expected yyyy-MM-dd HH:mm:ss")
    return moment


def app_secret(secrets: SecretLookup, platform: str, app: str, label: str) -> str:
    """The app's secret; raises SignatureError naming the app (label: how the platform says it)."""
    secret = secrets(platform, app)
    if not secret:
        raise SignatureError(f"unknown {label} {app!r}")
    return secret


def check_sign(expected: str, given: str) -> None:
    """Raises SignatureError unless the signatures match (compared in constant time)."""
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise SignatureError("signature mismatch")


def check_fresh(timestamp: datetime | str, now: datetime, tolerance: timedelta) -> None:
    """Raises SignatureError unless the signed timestamp lies within tolerance of now.

    Call it after check_sign, so only authentic senders learn about clock skew.
    """
    if not verify_timestamp(timestamp, now, tolerance):
        raise SignatureError(f"parameter timestamp outside the allowed {tolerance} of now")
