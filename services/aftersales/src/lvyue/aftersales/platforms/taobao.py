"""Taobao/Tmall refunds (TOP) mapped to an after-sale request.

TOP pushes refund messages (TMC taobao_refund_RefundCreated) as notifications only; the refund
comes from taobao.refund.get. The body modelled here is that response's `refund` object, as a
relay posts it:
    {"refund": {"refund_id": "62415380123456789", "tid": 3512345678901234567, ...}}
Fields (TOP's Refund struct): refund_id, tid (the trade: the linked order), oid, status,
refund_fee (yuan string), reason, desc, has_good_return, good_status, created, num, outer_id.
has_good_return true is 退货退款, else 仅退款 (TOP's exchanges come through another API and
are not mapped). The line is the refund's outer_id (the seller's SKU code) times num.

Signature: TOP's SPI rule, as for order-review's Taobao orders (md5, hmac or hmac-sha256 over
the sorted parameters and the raw body; timestamp within 10 minutes); the secret is looked up
as ("taobao", app_key).
"""

from __future__ import annotations

from typing import Any

from lvyue.aftersales.domain import CaseType
from lvyue.common.platform_signing.pushes import TopPush
from lvyue.common.webhooks.fields import any_id, text

from .base import (
    COUNT,
    ID,
    YUAN,
    Collected,
    PlatformAftersale,
    count,
    description,
    reason_code,
    root_object,
    yuan,
)

_ROOT = "refund"


class TaobaoAftersaleAdapter(TopPush):
    """TOP refunds, pushed as taobao.refund.get's refund."""

    def to_aftersale(self, payload: Any) -> PlatformAftersale:
        refund = root_object(payload, _ROOT)
        got = Collected()
        refund_id = got.need(any_id(refund.get("refund_id")), f"{_ROOT}.refund_id", ID)
        tid = got.need(any_id(refund.get("tid")), f"{_ROOT}.tid", f"{ID}: the trade id")
        sku = got.need(
            text(refund.get("outer_id")), f"{_ROOT}.outer_id", "required: the seller's SKU code"
        )
        quantity = got.need(count(refund.get("num") or 1), f"{_ROOT}.num", COUNT)
        amount = got.need(yuan(refund.get("refund_fee")), f"{_ROOT}.refund_fee", YUAN)
        got.check()
        returned = refund.get("has_good_return") in (True, "true")
        return PlatformAftersale(
            platform_order_id=tid,
            platform_aftersale_id=refund_id,
            type=CaseType.RETURN_AND_REFUND if returned else CaseType.REFUND_ONLY,
            reason=reason_code(refund.get("reason")),
            description=description(refund.get("reason"), refund.get("desc")),
            lines=((sku, quantity),),
            refund_amount=amount,
        )
