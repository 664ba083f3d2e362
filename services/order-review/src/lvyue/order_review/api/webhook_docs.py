"""The order webhook's OpenAPI: signatures per platform and a body example per platform."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from lvyue.common.webhooks.openapi import webhook_openapi

CANONICAL_ORDER_EXAMPLE: dict[str, Any] = {
    "platform": "lvyue",
    "shop_id": "lvyue-tea",
    "platform_order_id": "LY20261205000123",
    "buyer_id": "2200781234567",
    "buyer_nick": "小李爱购物",
    "receiver": {
        "name": "李娜",
        "phone": "13800138000",
        "address": {
            "country": "CN",
            "province": "浙江省",
            "city": "杭州市",
            "district": "西湖区",
            "street": "文三路 478 号 华星时代广场",
            "detail": "A座 1203",
            "postal_code": "310012",
        },
    },
    "lines": [
        {"sku": "TEA-LJ-250G", "name": "明前龙井 250g", "quantity": 2, "unit_price": "168.00"}
    ],
    "amounts": {
        "currency": "CNY",
        "goods_total": "336.00",
        "shipping_fee": "0.00",
        "discount": "0.00",
        "paid_total": "336.00",
    },
    "paid_at": "2026-12-05T09:41:07+08:00",
    "urgent": False,
    "promotion": False,
    "remarks": "",
}

_PUSHES = ("shopify", "taobao", "jd", "pinduoduo", "douyin")


def _examples() -> dict[str, Any]:
    """The canonical order, then each platform's push as the adapters' tests feed it."""
    folder = resources.files("lvyue.order_review.api") / "webhook_examples"
    pushes = {p: json.loads((folder / f"{p}.json").read_text("utf-8")) for p in _PUSHES}
    return {"lvyue": CANONICAL_ORDER_EXAMPLE, **pushes}


def order_webhook_openapi() -> dict[str, Any]:
    examples = _examples()
    return webhook_openapi(
        examples,
        examples=examples,
        body="The platform's own order push (path parameter `platform`: lvyue, shopify, taobao, "
        "jd, pinduoduo, douyin); lvyue's is the canonical order (docs/order-format.md). Signed as "
        "`x-signature` says.",
    )
