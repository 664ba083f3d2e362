"""The Chinese platforms' API signatures and timestamps (the caller's side of the rules that
order_review's webhook adapters check)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8))


def sorted_params(params: Mapping[str, str]) -> str:
    """Every parameter except `sign`, sorted by name, concatenated as name+value."""
    return "".join(f"{name}{params[name]}" for name in sorted(params) if name != "sign")


def md5_wrapped(secret: str, message: str) -> str:
    """hex md5(secret + message + secret), lower case."""
    return hashlib.md5(f"{secret}{message}{secret}".encode()).hexdigest()


def sign_md5_upper(secret: str, params: Mapping[str, str]) -> str:
    """TOP / JOS / Pinduoduo: HEX_UPPER(md5(secret + k1v1k2v2... + secret))."""
    return md5_wrapped(secret, sorted_params(params)).upper()


def china_time(moment: datetime) -> str:
    """ "yyyy-MM-dd HH:mm:ss" in GMT+8, the timestamp format of TOP and JOS."""
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def unix_seconds(moment: datetime) -> str:
    return str(int(moment.timestamp()))
