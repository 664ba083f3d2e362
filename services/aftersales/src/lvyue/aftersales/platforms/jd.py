"""JD POP after-sale services (京东开放平台 JOS 售后服务单) mapped to an after-sale request.

JD's after-sale messages carry only the service id; the service comes from JOS's after-sale
service query. The body modelled here is that service object, as a relay posts it:
    {"afsService": {"afsServiceId": 1723456789, "orderId": "301234567890", ...}}
Fields: afsServiceId, orderId (the linked order), wareId, wareName and afsApplyTime are JOS's
AfsServiceMessage's; customerExpect is JD's 客户期望 (10 退货, 20 换货; 30 维修 is not an
after-sale aftersales takes); questionTypeName/questionDesc are the buyer's reason and words;
skuId/outerSkuId, serviceCount and applyRefundSum (yuan) are this adapter's reading of the
service detail, not checked against a published JOS schema: a relay supplies them.
The SKU is outerSkuId, else "sku:<skuId or wareId>", as order-review names JD lines.

Signature: JOS's API rule with the body as 360buy_param_json, as for order-review's JD orders;
the secret is looked up as ("jd", app_key).
"""

from __future__ import annotations

from typing import Any

from lvyue.aftersales.domain import CaseType
from lvyue.common.platform_signing.pushes import JosPush
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

_ROOT = "afsService"
RETURN, EXCHANGE = 10, 20
TYPES = {RETURN: CaseType.RETURN_AND_REFUND, EXCHANGE: CaseType.EXCHANGE}


class JdAftersaleAdapter(JosPush):
    """JD POP after-sale services (退货 / 换货)."""

    def to_aftersale(self, payload: Any) -> PlatformAftersale:
        service = root_object(payload, _ROOT)
        got = Collected()
        service_id = got.need(any_id(service.get("afsServiceId")), f"{_ROOT}.afsServiceId", ID)
        order_id = got.need(any_id(service.get("orderId")), f"{_ROOT}.orderId", ID)
        expect = count(service.get("customerExpect"))
        case_type = got.need(
            TYPES.get(expect or 0), f"{_ROOT}.customerExpect", "must be 10 (退货) or 20 (换货)"
        )
        platform_sku = any_id(service.get("skuId")) or any_id(service.get("wareId"))
        sku = got.need(
            text(service.get("outerSkuId")) or (f"sku:{platform_sku}" if platform_sku else None),
            f"{_ROOT}.outerSkuId",
        )
        quantity = got.need(count(service.get("serviceCount") or 1), f"{_ROOT}.serviceCount", COUNT)
        amount = None
        if case_type is not CaseType.EXCHANGE:
            amount = got.need(yuan(service.get("applyRefundSum")), f"{_ROOT}.applyRefundSum", YUAN)
        got.check()
        reason_text = service.get("questionTypeName")
        return PlatformAftersale(
            platform_order_id=order_id,
            platform_aftersale_id=service_id,
            type=case_type,
            reason=reason_code(reason_text, service.get("questionDesc")),
            description=description(reason_text, service.get("questionDesc")),
            lines=((sku, quantity),),
            refund_amount=amount,
        )
