"""JD POP orders (京东开放平台 JOS / 京东宙斯) mapped to a CanonicalOrder.

JD pushes no signed order body over HTTP: its order messages (JOS 消息服务) carry only the order
id, and the order comes from jingdong.pop.order.get / .search. So the body modelled here is
that response's `orderInfo` object (OrderSearchInfo), as a relay posts it:
    {"orderInfo": {"orderId": "301234567890", "venderId": "10086123", ...}}
Field names are JOS's (camelCase); money is a yuan string ("99.00"); times are
"yyyy-MM-dd HH:mm:ss" in GMT+8.

Signature: JOS's API rule (help.jd.com/jos 开发规范, "API签名") with the JSON body as the value
of `360buy_param_json`, JOS's parameter for a JSON business payload:
    sign = HEX_UPPER(md5(secret + k1v1k2v2... + secret))
over every system parameter present (360buy_param_json, access_token, app_key, format, method,
sign_method, timestamp, v) sorted by name, `sign` excluded. `timestamp` ("yyyy-MM-dd
HH:mm:ss", GMT+8) must lie within the tolerance (default 10 minutes; JOS itself allows its
callers 6). The route hands adapters the URL query parameters and the headers as one mapping,
so those parameters are read from there by name. The secret is the app's: it is looked up as
("jd", app_key). CanonicalOrder.shop_id is the order's venderId (the shop).

Receiver data: JD returns consigneeInfo.fullname/mobile/fullAddress masked for most apps
("张*", "138****5678"); they are mapped as given and review flags an unusable phone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from lvyue.common.contracts.order import Address, CanonicalOrder, Receiver
from lvyue.common.platform_signing.pushes import JosPush
from lvyue.common.webhooks.fields import digits_id, text

from ._fields import (
    build,
    build_receiver,
    canonical_order,
    china_time,
    first_china_time,
    one_of,
    order_parts,
    remarks,
    require,
    required_section,
    section,
    short,
    yuan_amounts,
    yuan_lines,
)
from .base import FieldErrors, PayloadError

# JOS order states in which the buyer has paid (LOCKED and POP_ORDER_PAUSE hold a paid order).
# TRADE_CANCELED and any state JOS adds later count as unpaid, so review stops the order.
PAID_STATES = frozenset(
    {
        "WAIT_SELLER_STOCK_OUT",
        "WAIT_SELLER_DELIVERY",
        "WAIT_SEND_CODE",
        "WAIT_GOODS_RECEIVE_CONFIRM",
        "FINISHED_L",
        "POP_ORDER_PAUSE",
        "LOCKED",
    }
)
NO_TIME_BEFORE = 2000  # JOS's placeholder for "no time" is year 1
_ROOT = "orderInfo"
# The order's fields of what the contract may still refuse once the parts are mapped.
_PATHS = {
    "shop_id": f"{_ROOT}.venderId",
    "platform_order_id": f"{_ROOT}.orderId",
    "buyer_id": f"{_ROOT}.open_id_buyer",
    "buyer_nick": f"{_ROOT}.pin",
}


class JdAdapter(JosPush):
    """Adapter for JD POP orders, pushed as jingdong.pop.order.get's orderInfo."""

    def delivery_id(self, headers: Mapping[str, str], payload: Mapping[str, Any]) -> str | None:
        return None  # JOS sends no delivery id; the route falls back to the body's hash

    def shop_id(self, headers: Mapping[str, str], payload: Mapping[str, Any]) -> str:
        shop = digits_id(section(payload, _ROOT).get("venderId"))
        if shop is None:
            raise PayloadError([(f"{_ROOT}.venderId", "required: the seller's vender id")])
        return shop

    def to_canonical(
        self,
        headers: Mapping[str, str],
        payload: Mapping[str, Any],
        *,
        now: datetime | None = None,
    ) -> CanonicalOrder:
        order = required_section(payload, _ROOT, "required: the orderInfo object of pop.order.get")
        errors = FieldErrors()
        shop = require(digits_id(order.get("venderId")), f"{_ROOT}.venderId", errors)
        order_id = require(
            digits_id(order.get("orderId")),
            f"{_ROOT}.orderId",
            errors,
            "required: the order id as digits",
        )
        receiver = _receiver(order, errors)
        lines = yuan_lines(
            order.get("itemInfoList"),
            f"{_ROOT}.itemInfoList",
            "item",
            errors,
            codes=("outerSkuId",),
            sku_id="skuId",
            name="skuName",
            quantity="itemTotal",
            unit_price="jdPrice",
        )
        amounts = yuan_amounts(
            order,
            _ROOT,
            errors,
            goods_total="orderTotalPrice",
            shipping_fee="freightPrice",
            discount="sellerDiscount",
            paid_total="orderPayment",
        )
        paid_at = _paid_at(order, errors, now)
        parts = order_parts(errors, shop, order_id, receiver, lines, amounts, paid_at)
        return canonical_order(
            errors,
            parts,
            now,
            paths=_PATHS,
            platform=self.name,
            buyer_id=short(order.get("open_id_buyer")),
            buyer_nick=text(order.get("pin")),
            paid=one_of(order.get("orderState"), PAID_STATES),
            # JOS documents no urgent or promotion flag on an order.
            remarks=remarks(buyer=order.get("orderRemark"), seller=order.get("venderRemark")),
        )


def _street(consignee: Mapping[str, Any]) -> str | None:
    """The street line: fullAddress without the province, city and county it starts with.

    The town (街道) stays in the line; it is put in front when fullAddress lacks it.
    """
    street = text(consignee.get("fullAddress"))
    for part in ("province", "city", "county"):
        prefix = text(consignee.get(part))
        if street is not None and prefix is not None and street.startswith(prefix):
            street = street.removeprefix(prefix).strip() or None
    town = text(consignee.get("town"))
    if street is not None and town is not None and not street.startswith(town):
        street = town + street
    return street


def _receiver(order: Mapping[str, Any], errors: FieldErrors) -> Receiver | None:
    where = f"{_ROOT}.consigneeInfo"
    consignee = order.get("consigneeInfo")
    if not isinstance(consignee, Mapping):
        errors.add(where, "required: the order has no consignee")
        return None
    address = build(
        errors,
        Address,
        province=(text(consignee.get("province")), f"{where}.province"),
        city=(text(consignee.get("city")), f"{where}.city"),
        district=(text(consignee.get("county")), f"{where}.county"),
        street=(_street(consignee), f"{where}.fullAddress"),
    )
    phone = text(consignee.get("mobile")) or text(consignee.get("telephone"))
    return build_receiver(
        errors,
        name=(text(consignee.get("fullname")), f"{where}.fullname"),
        phone=(phone, f"{where}.mobile"),
        address=address,
    )


def _paid_at(
    order: Mapping[str, Any], errors: FieldErrors, now: datetime | None
) -> datetime | None:
    # Cash-on-delivery orders have no payment time (JOS may send "0001-01-01 00:00:00"):
    # the order time stands in.
    confirmed = china_time(order.get("paymentConfirmTime"))
    if confirmed is not None and confirmed.year < NO_TIME_BEFORE:
        order = {name: value for name, value in order.items() if name != "paymentConfirmTime"}
    return first_china_time(order, _ROOT, errors, "paymentConfirmTime", "orderStartTime", now=now)
