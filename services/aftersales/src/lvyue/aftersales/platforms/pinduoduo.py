"""Pinduoduo after-sales (拼多多 售后单) mapped to an after-sale request.

Pinduoduo's 消息服务 (pdd_refund_RefundCreated) sends a notification only; the after-sale
comes from pdd.refund.information.get. The body modelled here is that response, as a relay
posts it:
    {"refund_information_get_response": {"id": 8123456789, "order_sn": "240618-...", ...}}
Fields: id (the after-sale id), order_sn (the linked order), after_sales_type (1 仅退款,
2 退货退款, 3 换货), refund_amount in fen (integer), after_sales_reason, goods_number, sku_id,
outer_id (the seller's SKU code). The SKU is outer_id, else "sku:<sku_id>", as order-review
names Pinduoduo lines.

Signature: Pinduoduo's API rule with the raw body appended, as for order-review's Pinduoduo
orders (md5; timestamp in unix seconds within 10 minutes); the secret is looked up as
("pinduoduo", client_id).
"""

from __future__ import annotations

from typing import Any

from lvyue.aftersales.domain import CaseType
from lvyue.common.platform_signing.pushes import PddPush
from lvyue.common.webhooks.fields import any_id, text

from .base import (
    COUNT,
    FEN,
    ID,
    Collected,
    PlatformAftersale,
    count,
    description,
    fen,
    reason_code,
    root_object,
)

_ROOT = "refund_information_get_response"
TYPES = {1: CaseType.REFUND_ONLY, 2: CaseType.RETURN_AND_REFUND, 3: CaseType.EXCHANGE}


class PinduoduoAftersaleAdapter(PddPush):
    """Pinduoduo after-sales, pushed as pdd.refund.information.get's response."""

    def to_aftersale(self, payload: Any) -> PlatformAftersale:
        info = root_object(payload, _ROOT)
        got = Collected()
        aftersale_id = got.need(any_id(info.get("id")), f"{_ROOT}.id", ID)
        order_sn = got.need(any_id(info.get("order_sn")), f"{_ROOT}.order_sn", ID)
        case_type = got.need(
            TYPES.get(count(info.get("after_sales_type")) or 0),
            f"{_ROOT}.after_sales_type",
            "must be 1 (仅退款), 2 (退货退款) or 3 (换货)",
        )
        platform_sku = any_id(info.get("sku_id"))
        sku = got.need(
            text(info.get("outer_id")) or (f"sku:{platform_sku}" if platform_sku else None),
            f"{_ROOT}.outer_id",
        )
        quantity = got.need(count(info.get("goods_number")), f"{_ROOT}.goods_number", COUNT)
        amount = None
        if case_type is not CaseType.EXCHANGE:
            amount = got.need(fen(info.get("refund_amount")), f"{_ROOT}.refund_amount", FEN)
        got.check()
        reason = info.get("after_sales_reason")
        return PlatformAftersale(
            platform_order_id=order_sn,
            platform_aftersale_id=aftersale_id,
            type=case_type,
            reason=reason_code(reason),
            description=description(reason),
            lines=((sku, quantity),),
            refund_amount=amount,
        )
