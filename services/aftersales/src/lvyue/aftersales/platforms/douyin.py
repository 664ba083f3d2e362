"""Douyin shop after-sales (抖店 售后单) mapped to an after-sale request.

抖店's 消息推送 (doudian_refund_RefundCreated) POSTs a notification only; the after-sale comes
from afterSale.Detail. The body modelled here is that response's `data`, as a relay posts it:
    {"aftersale_info": {"aftersale_id": "7123...", "aftersale_type": 0, ...},
     "order_info": {"order_id": "6919...", "sku_order_infos": [...]}}
Fields: aftersale_info.aftersale_id, aftersale_type (0 退货退款, 1 已发货仅退款, 2 未发货仅退款,
3 换货), refund_amount in fen, reason (the reason text) and reason_remark (the buyer's words);
order_info.order_id (the linked order; aftersale_info.order_id stands in) and sku_order_infos,
each with shop_sku_code (the seller's SKU code), sku_id and item_quantity. The SKU is
shop_sku_code, else "sku:<sku_id>", as order-review names Douyin lines.

Signature: 抖店's push signature, as for order-review's Douyin orders:
event-sign = md5(app-id + raw body + app secret); the secret is looked up as ("douyin", app-id).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lvyue.aftersales.domain import CaseType
from lvyue.common.platform_signing.pushes import DouyinPush
from lvyue.common.webhooks.fields import any_id, items, text

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

_ROOT = "aftersale_info"
_ORDER = "order_info"
TYPES = {
    0: CaseType.RETURN_AND_REFUND,
    1: CaseType.REFUND_ONLY,
    2: CaseType.REFUND_ONLY,
    3: CaseType.EXCHANGE,
}


class DouyinAftersaleAdapter(DouyinPush):
    """抖店 after-sales, pushed as afterSale.Detail's data."""

    def to_aftersale(self, payload: Any) -> PlatformAftersale:
        info = root_object(payload, _ROOT)
        order = payload.get(_ORDER) if isinstance(payload.get(_ORDER), Mapping) else {}
        got = Collected()
        aftersale_id = got.need(any_id(info.get("aftersale_id")), f"{_ROOT}.aftersale_id", ID)
        order_id = got.need(
            any_id(order.get("order_id")) or any_id(info.get("order_id")),
            f"{_ORDER}.order_id",
            ID,
        )
        raw_type = info.get("aftersale_type")
        case_type = got.need(
            TYPES.get(raw_type) if type(raw_type) is int else None,
            f"{_ROOT}.aftersale_type",
            "must be 0 (退货退款), 1 or 2 (仅退款) or 3 (换货)",
        )
        lines = _lines(order.get("sku_order_infos"), got)
        amount = None
        if case_type is not CaseType.EXCHANGE:
            amount = got.need(fen(info.get("refund_amount")), f"{_ROOT}.refund_amount", FEN)
        got.check()
        reason = info.get("reason")
        return PlatformAftersale(
            platform_order_id=order_id,
            platform_aftersale_id=aftersale_id,
            type=case_type,
            reason=reason_code(reason),
            description=description(reason, info.get("reason_remark")),
            lines=lines,
            refund_amount=amount,
        )


def _lines(value: Any, got: Collected) -> tuple[tuple[str, int], ...]:
    where = f"{_ORDER}.sku_order_infos"
    listed = items(value)
    if not listed:
        got.need(None, where, "required: at least one sku order")
    lines: list[tuple[str, int]] = []
    for i, item in enumerate(listed):
        entry = item if isinstance(item, Mapping) else {}
        platform_sku = any_id(entry.get("sku_id"))
        sku = got.need(
            text(entry.get("shop_sku_code")) or (f"sku:{platform_sku}" if platform_sku else None),
            f"{where}[{i}].shop_sku_code",
        )
        quantity = got.need(
            count(entry.get("item_quantity") or 1),
            f"{where}[{i}].item_quantity",
            COUNT,
        )
        if sku is not None and quantity is not None:
            lines.append((sku, quantity))
    return tuple(lines)
