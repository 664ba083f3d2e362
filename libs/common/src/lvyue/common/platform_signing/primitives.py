"""Signing primitives of the Chinese sales platforms: the sorted-parameter signature (md5, hmac,
hmac-sha256), Douyin's body signature, China-time timestamps, and the checks every verifier
makes (a required parameter, the app's secret, the signature, freshness). Pure functions."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from lvyue.common.security import verify_timestamp

SIGN = "sign"
TIMESTAMP = "timestamp"
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")
CHINA_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # "yyyy-MM-dd HH:mm:ss", as Chinese platforms send it
SignMethod = Literal["md5", "hmac", "hmac-sha256"]
SIGN_METHODS: frozenset[str] = frozenset({"md5", "hmac", "hmac-sha256"})
DEFAULT_TOLERANCE = timedelta(minutes=10)

SecretLookup = Callable[[str, str], str | None]
"""(platform, app key) -> the app's secret, or None for an unknown app."""


class SignatureError(Exception):
    """The request cannot be authenticated: parameter missing, unknown app, signature mismatch."""


# --- signing (pure) -------------------------------------------------------------------------


def sorted_params(params: Mapping[str, str]) -> str:
    """Every parameter except `sign`, sorted by name, concatenated as name+value."""
    return "".join(f"{name}{params[name]}" for name in sorted(params) if name != SIGN)


def _bytes(message: str | bytes) -> bytes:
    return message.encode() if isinstance(message, str) else message


def md5_wrapped(secret: str, message: str | bytes) -> str:
    """hex md5(secret + message + secret), lower case."""
    key = secret.encode()
    return hashlib.md5(key + _bytes(message) + key).hexdigest()


def md5_upper(secret: str, message: str | bytes) -> str:
    """HEX_UPPER(md5(secret + message + secret)): the message wrapped in the secret."""
    return md5_wrapped(secret, message).upper()


def hmac_upper(secret: str, message: str | bytes, digest: str) -> str:
    """HEX_UPPER(hmac_<digest>(secret, message))."""
    return hmac.new(secret.encode(), _bytes(message), digest).hexdigest().upper()


def sign(params: Mapping[str, str], secret: str, body: bytes = b"", method: str = "md5") -> str:
    """TOP / JOS / Pinduoduo: the signature of the sorted parameters and body, upper-case hex.

    method is TOP's sign_method: "md5" (the secret wraps the message), "hmac" (HMAC-MD5) or
    "hmac-sha256"; anything else raises ValueError.
    """
    message = sorted_params(params).encode() + body
    if method == "md5":
        return md5_upper(secret, message)
    if method == "hmac":
        return hmac_upper(secret, message, "md5")
    if method == "hmac-sha256":
        return hmac_upper(secret, message, "sha256")
    raise ValueError(f"sign method {method!r} not supported")


def douyin_event_sign(app_key: str, secret: str, body: bytes) -> str:
    """抖店's push signature: lower-case hex md5(app_key + raw body + app_secret)."""
    return hashlib.md5(app_key.encode() + body + secret.encode()).hexdigest()


def china_time_text(moment: datetime) -> str:
    """ "yyyy-MM-dd HH:mm:ss" in GMT+8, the timestamp format of TOP and JOS."""
    return moment.astimezone(CHINA).strftime(CHINA_TIME_FORMAT)


def unix_seconds(moment: datetime) -> str:
    return str(int(moment.timestamp()))


def parse_china_time(value: Any) -> datetime | None:
    """A "yyyy-MM-dd HH:mm:ss" time in GMT+8 as an aware datetime; None if malformed."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip(), CHINA_TIME_FORMAT).replace(tzinfo=CHINA)
    except ValueError:
        return None


# --- reading a signed request ---------------------------------------------------------------


def normalize_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Header names lower-cased, values stripped: a plain dict may arrive in any case."""
    return {key.lower(): value.strip() for key, value in headers.items()}


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, looked up case-insensitively; None when absent or blank."""
    wanted = name.lower()
    # A request's headers (Starlette's) look up any case themselves, a dict keyed in lower
    # case too; only a dict keyed otherwise is searched, not copied for every lookup.
    value = headers.get(wanted)
    if value is None:
        value = next((v for key, v in headers.items() if key.lower() == wanted), None)
    return (value.strip() if value is not None else "") or None


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
    moment = parse_china_time(required_param(params, TIMESTAMP))
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
