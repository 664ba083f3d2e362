"""The after-sale webhooks' OpenAPI: signatures per platform and a body example per platform."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from lvyue.common.webhooks.openapi import webhook_openapi

CANONICAL_EXAMPLE: dict[str, Any] = {
    "platform": "taobao",
    "shop_id": "tb-shop-001",
    "platform_order_id": "3914567281234567890",
    "platform_aftersale_id": "62415380123456789",
    "type": "return_and_refund",
    "reason": "quality",
    "description": "茶叶受潮结块",
    "lines": [{"sku": "TEA-LJ-250G", "quantity": 1}],
    "refund_amount": "168.00",
}

PUSHES = ("taobao", "jd", "pinduoduo", "douyin")


def canonical_webhook_openapi() -> dict[str, Any]:
    return webhook_openapi(
        ["lvyue"],
        examples={"lvyue": CANONICAL_EXAMPLE},
        body="The canonical after-sale request (docs/aftersales-format.md).",
    )


def platform_webhook_openapi() -> dict[str, Any]:
    folder = resources.files("lvyue.aftersales") / "webhook_examples"
    examples = {p: json.loads((folder / f"{p}.json").read_text("utf-8")) for p in PUSHES}
    return webhook_openapi(
        PUSHES,
        examples=examples,
        body="The platform's after-sale push (path parameter `platform`: taobao, jd, pinduoduo, "
        "douyin), the object of its after-sale detail API. Signed as `x-signature` says.",
    )
