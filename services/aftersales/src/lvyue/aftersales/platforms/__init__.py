"""Sales platforms' after-sale pushes, keyed by the platform name used in the webhook path.

The canonical format (POST /webhooks/lvyue/aftersales) is not here: api.webhooks reads it.
"""

from __future__ import annotations

from collections.abc import Mapping

from lvyue.common.platform_signing.pushes import by_name

from .base import AftersaleAdapter, PayloadError, PlatformAftersale, SignatureError, reason_code
from .douyin import DouyinAftersaleAdapter
from .jd import JdAftersaleAdapter
from .pinduoduo import PinduoduoAftersaleAdapter
from .taobao import TaobaoAftersaleAdapter

ADAPTERS: Mapping[str, AftersaleAdapter] = by_name(
    TaobaoAftersaleAdapter(),
    JdAftersaleAdapter(),
    PinduoduoAftersaleAdapter(),
    DouyinAftersaleAdapter(),
)


__all__ = [
    "ADAPTERS",
    "AftersaleAdapter",
    "DouyinAftersaleAdapter",
    "JdAftersaleAdapter",
    "PayloadError",
    "PinduoduoAftersaleAdapter",
    "PlatformAftersale",
    "SignatureError",
    "TaobaoAftersaleAdapter",
    "reason_code",
]
