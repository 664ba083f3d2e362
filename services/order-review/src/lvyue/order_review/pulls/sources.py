"""The order source of each platform lvyue pulls from (settings.PULL_PLATFORMS)."""

from __future__ import annotations

from collections.abc import Mapping

from lvyue.order_review.pulls.douyin import DouyinOrders
from lvyue.order_review.pulls.jd import JdOrders
from lvyue.order_review.pulls.pinduoduo import PinduoduoOrders
from lvyue.order_review.pulls.shopify import ShopifyOrders
from lvyue.order_review.pulls.source import OrderSource
from lvyue.order_review.pulls.taobao import TaobaoOrders

SOURCES: Mapping[str, OrderSource] = {
    "shopify": ShopifyOrders(),
    "douyin": DouyinOrders(),
    "pinduoduo": PinduoduoOrders(),
    "taobao": TaobaoOrders(),
    "jd": JdOrders(),
}
