"""What every adapter of a platform's signed push shares, whatever it carries (orders in
order-review, after-sales in aftersales): its name and how its signature is checked.

A platform signs its order pushes and its after-sale pushes the same way, so an adapter
inherits its `verify` from the platform's class here (TopPush, JosPush, PddPush, DouyinPush)
and adds only how it reads the payload.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Protocol, TypeVar

from lvyue.common.platform_signing.douyin import verify_douyin_event
from lvyue.common.platform_signing.jd import verify_jos
from lvyue.common.platform_signing.pinduoduo import verify_pdd
from lvyue.common.platform_signing.primitives import DEFAULT_TOLERANCE, SecretLookup
from lvyue.common.platform_signing.taobao import verify_top


class SignedPushVerifier(Protocol):
    """The part of a platform adapter the webhook route authenticates with."""

    @property
    def name(self) -> str:
        """The platform slug, also the webhook path segment (e.g. "taobao")."""
        ...

    def verify(
        self, params: Mapping[str, str], body: bytes, secrets: SecretLookup, *, now: datetime
    ) -> str:
        """Authenticates the raw body against the request's parameters and headers (one
        mapping); the app or shop key it is signed for. Raises SignatureError saying why not."""
        ...


_Adapter = TypeVar("_Adapter", bound=SignedPushVerifier)


def by_name(*adapters: _Adapter) -> Mapping[str, _Adapter]:
    """The adapters keyed by their platform name (the webhook path segment), read-only."""
    return MappingProxyType({adapter.name: adapter for adapter in adapters})


class _Check(Protocol):
    def __call__(
        self,
        params: Mapping[str, str],
        body: bytes,
        secrets: SecretLookup,
        /,
        *,
        platform: str,
        now: datetime,
        tolerance: timedelta,
    ) -> str: ...


def _douyin(
    params: Mapping[str, str],
    body: bytes,
    secrets: SecretLookup,
    *,
    platform: str,
    now: datetime,
    tolerance: timedelta,
) -> str:
    return verify_douyin_event(params, body, secrets, platform=platform)  # signs no timestamp


class SignedPush:
    """A signed push of one platform: `name` is the slug the secrets are looked up under, and
    `tolerance` how far its signed timestamp may be from now."""

    def __init__(self, name: str, check: _Check, tolerance: timedelta) -> None:
        self.name = name
        self.tolerance = tolerance
        self._check = check

    def verify(
        self, params: Mapping[str, str], body: bytes, secrets: SecretLookup, *, now: datetime
    ) -> str:
        """See SignedPushVerifier.verify."""
        return self._check(
            params, body, secrets, platform=self.name, now=now, tolerance=self.tolerance
        )


class TopPush(SignedPush):
    """淘宝/天猫 (TOP): sorted parameters and body, md5 or hmac, a GMT+8 timestamp."""

    def __init__(self, name: str = "taobao", tolerance: timedelta = DEFAULT_TOLERANCE) -> None:
        super().__init__(name, verify_top, tolerance)


class JosPush(SignedPush):
    """京东 (JOS): TOP's scheme with JD's parameter names."""

    def __init__(self, name: str = "jd", tolerance: timedelta = DEFAULT_TOLERANCE) -> None:
        super().__init__(name, verify_jos, tolerance)


class PddPush(SignedPush):
    """拼多多: TOP's scheme with client_id for the app key and a unix timestamp."""

    def __init__(self, name: str = "pinduoduo", tolerance: timedelta = DEFAULT_TOLERANCE) -> None:
        super().__init__(name, verify_pdd, tolerance)


class DouyinPush(SignedPush):
    """抖店: event-sign over the body alone; no timestamp, so `tolerance` is unused."""

    def __init__(self, name: str = "douyin", tolerance: timedelta = DEFAULT_TOLERANCE) -> None:
        super().__init__(name, _douyin, tolerance)
