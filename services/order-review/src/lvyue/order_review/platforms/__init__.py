"""Sales-platform webhook adapters, keyed by the platform name used in the webhook path."""

from __future__ import annotations

from collections.abc import Mapping

from lvyue.common.platform_signing.pushes import by_name

from .base import (
    FieldError,
    FieldErrors,
    PayloadError,
    PlatformAdapter,
    SecretLookup,
    SignatureError,
    header,
    normalize_headers,
)
from .canonical import CanonicalAdapter
from .douyin import DouyinAdapter
from .jd import JdAdapter
from .pinduoduo import PinduoduoAdapter
from .shopify import ShopifyAdapter
from .taobao import TaobaoAdapter

ADAPTERS: Mapping[str, PlatformAdapter] = by_name(
    CanonicalAdapter(),
    ShopifyAdapter(),
    TaobaoAdapter(),
    JdAdapter(),
    PinduoduoAdapter(),
    DouyinAdapter(),
)


__all__ = [
    "ADAPTERS",
    "CanonicalAdapter",
    "DouyinAdapter",
    "FieldError",
    "FieldErrors",
    "JdAdapter",
    "PayloadError",
    "PinduoduoAdapter",
    "PlatformAdapter",
    "SecretLookup",
    "ShopifyAdapter",
    "SignatureError",
    "TaobaoAdapter",
    "header",
    "normalize_headers",
]
