"""One tracking adapter per sales platform, and which API configuration a shipment uses."""

from __future__ import annotations

from collections.abc import Mapping

from lvyue.fulfilment.settings import PlatformApi

from .base import Outcome, OutcomeKind, TrackingAdapter, TrackingPush
from .canonical import CanonicalAdapter
from .douyin import DouyinAdapter
from .jd import JdAdapter
from .pinduoduo import PinduoduoAdapter
from .shopify import ShopifyAdapter
from .taobao import TaobaoAdapter

CarrierCodes = Mapping[str, Mapping[str, str]]
"""platform -> lvyue carrier code -> the platform's code for it (overrides the defaults)."""

__all__ = [
    "Adapters",
    "CarrierCodes",
    "Outcome",
    "OutcomeKind",
    "TrackingAdapter",
    "TrackingPush",
    "api_for",
]


class Adapters:
    """The adapter for a platform slug; a slug without its own adapter gets lvyue's callback."""

    def __init__(self, carrier_codes: CarrierCodes | None = None) -> None:
        codes = carrier_codes or {}
        adapters: list[TrackingAdapter] = [
            ShopifyAdapter(codes.get("shopify")),
            TaobaoAdapter("taobao", codes.get("taobao")),
            TaobaoAdapter("tmall", codes.get("tmall") or codes.get("taobao")),
            JdAdapter(codes.get("jd")),
            PinduoduoAdapter(codes.get("pinduoduo")),
            DouyinAdapter(codes.get("douyin")),
        ]
        self._by_name = {adapter.name: adapter for adapter in adapters}

    def for_platform(self, platform: str) -> TrackingAdapter:
        return self._by_name.get(platform) or CanonicalAdapter(platform)

    @property
    def names(self) -> frozenset[str]:
        return frozenset({*self._by_name, "lvyue"})


def api_for(apis: Mapping[str, PlatformApi], platform: str, shop_id: str) -> PlatformApi | None:
    """A shop's own API entry ("taobao/<shop>": tokens are per seller), else the platform's."""
    return apis.get(f"{platform}/{shop_id}") or apis.get(platform)
