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
callers 6). The route hands adapters headers only, so those parameters are read by name from
the headers. The secret is the app's: it is looked up as ("jd", app_key). CanonicalOrder.shop_id
is the order's venderId (the shop).

Receiver data: JD returns consigneeInfo.fullname/mobile/fullAddress masked for most apps
("张*", "138****5678"); they are mapped as given and review flags an unusable phone.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from lvyue.common.contracts.order import Address, Amounts, CanonicalOrder, OrderLine, Receiver
from lvyue.common.security import verify_timestamp

from .base import FieldErrors, PayloadError, SecretLookup, SignatureError, normalize_headers

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")
DEFAULT_TOLERANCE = timedelta(minutes=10)
BODY_PARAM = "360buy_param_json"
SYSTEM_PARAMS = ("access_token", "app_key", "format", "method", "sign_method", "timestamp", "v")
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
MAX_LINES = 500
MAX_REMARKS = 2000
_ROOT = "orderInfo"


def jos_sign(secret: str, params: Mapping[str, str]) -> str:
    """JOS's MD5 signature of the parameters, upper-case hex."""
    joined = "".join(f"{name}{params[name]}" for name in sorted(params) if name != "sign")
    return hashlib.md5(f"{secret}{joined}{secret}".encode()).hexdigest().upper()


class JdAdapter:
    """Adapter for JD POP orders, pushed as jingdong.pop.order.get's orderInfo."""

    name = "jd"

    def __init__(self, tolerance: timedelta = DEFAULT_TOLERANCE) -> None:
        self.tolerance = tolerance

    def verify(
        self,
        headers: Mapping[str, str],
        body: bytes,
        secrets: SecretLookup,
        *,
        now: datetime,
    ) -> None:
        given = normalize_headers(headers)
        params = {name: given[name] for name in SYSTEM_PARAMS if name in given}
        sign = given.get("sign")
        if not sign:
            raise SignatureError("parameter sign missing")
        app_key = params.get("app_key")
        if not app_key:
            raise SignatureError("parameter app_key missing")
        timestamp = params.get("timestamp")
        if not timestamp:
            raise SignatureError("parameter timestamp missing")
        moment = _china_time(timestamp)
        if moment is None:
            raise SignatureError("parameter timestamp malformed: expected yyyy-MM-dd HH:mm:ss")
        if (params.get("sign_method") or "md5").lower() != "md5":
            raise SignatureError(f"sign_method {params['sign_method']!r} not supported")
        try:
            params[BODY_PARAM] = body.decode()
        except UnicodeDecodeError:
            raise SignatureError("body is not UTF-8 text") from None
        secret = secrets(self.name, app_key)
        if not secret:
            raise SignatureError(f"unknown app_key {app_key!r}")
        if not hmac.compare_digest(jos_sign(secret, params).encode(), sign.encode()):
            raise SignatureError("signature mismatch")
        # Checked after the signature so only authentic senders learn about clock skew.
        if not verify_timestamp(moment, now, self.tolerance):
            raise SignatureError(f"parameter timestamp outside the allowed {self.tolerance} of now")

    def delivery_id(self, headers: Mapping[str, str], payload: Mapping[str, Any]) -> str | None:
        return None  # JOS sends no delivery id; the route falls back to the body's hash

    def shop_id(self, headers: Mapping[str, str], payload: Mapping[str, Any]) -> str:
        order = _mapping(payload.get(_ROOT)) if isinstance(payload, Mapping) else {}
        shop = _id_text(order.get("venderId"))
        if shop is None:
            raise PayloadError([(f"{_ROOT}.venderId", "required: the seller's vender id")])
        return shop

    def to_canonical(
        self, headers: Mapping[str, str], payload: Mapping[str, Any]
    ) -> CanonicalOrder:
        if not isinstance(payload, Mapping) or not isinstance(payload.get(_ROOT), Mapping):
            raise PayloadError([(_ROOT, "required: the orderInfo object of pop.order.get")])
        order: Mapping[str, Any] = payload[_ROOT]
        errors = FieldErrors()
        shop = _id_text(order.get("venderId"))
        if shop is None:
            errors.add(f"{_ROOT}.venderId", "required")
        order_id = _id_text(order.get("orderId"))
        if order_id is None:
            errors.add(f"{_ROOT}.orderId", "required: the order id as digits")
        receiver = _receiver(order, errors)
        lines = _lines(order, errors)
        amounts = _amounts(order, errors)
        paid_at = _paid_at(order, errors)
        if (
            errors.items
            or shop is None
            or order_id is None
            or receiver is None
            or lines is None
            or amounts is None
            or paid_at is None
        ):
            raise PayloadError(errors.items)
        return CanonicalOrder(
            platform=self.name,
            shop_id=shop,
            platform_order_id=order_id,
            buyer_id=_short(order.get("open_id_buyer")),
            buyer_nick=_text(order.get("pin")),
            receiver=receiver,
            lines=lines,
            amounts=amounts,
            paid_at=paid_at,
            paid=order.get("orderState") in PAID_STATES,
            # JOS documents no urgent or promotion flag on an order.
            remarks=_remarks(buyer=order.get("orderRemark"), seller=order.get("venderRemark")),
        )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _short(value: Any) -> str | None:
    """An optional id that fits the contract's 64 chars, else None (it is only informative)."""
    text = _text(value)
    return text if text is not None and len(text) <= 64 else None


def _id_text(value: Any) -> str | None:
    """A numeric id as exact digits (JOS sends numbers or digit strings); not bools, floats."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return value.strip()
    return None


def _yuan(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def _china_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
    except ValueError:
        return None


def _remarks(*, buyer: Any, seller: Any) -> str:
    parts = [
        f"{label}：{text}"
        for label, text in (("买家留言", _text(buyer)), ("卖家备注", _text(seller)))
        if text
    ]
    return "\n".join(parts)[:MAX_REMARKS]


def _street(consignee: Mapping[str, Any]) -> str | None:
    """The street line: fullAddress without the province, city and county it starts with.

    The town (街道) stays in the line; it is put in front when fullAddress lacks it.
    """
    street = _text(consignee.get("fullAddress"))
    for part in ("province", "city", "county"):
        prefix = _text(consignee.get(part))
        if street is not None and prefix is not None and street.startswith(prefix):
            street = street.removeprefix(prefix).strip() or None
    town = _text(consignee.get("town"))
    if street is not None and town is not None and not street.startswith(town):
        street = town + street
    return street


def _receiver(order: Mapping[str, Any], errors: FieldErrors) -> Receiver | None:
    where = f"{_ROOT}.consigneeInfo"
    consignee = order.get("consigneeInfo")
    if not isinstance(consignee, Mapping):
        errors.add(where, "required: the order has no consignee")
        return None
    address = errors.build(
        Address,
        {
            "province": _text(consignee.get("province")),
            "city": _text(consignee.get("city")),
            "district": _text(consignee.get("county")),
            "street": _street(consignee),
        },
        {
            "province": f"{where}.province",
            "city": f"{where}.city",
            "district": f"{where}.county",
            "street": f"{where}.fullAddress",
        },
    )
    phone = _text(consignee.get("mobile")) or _text(consignee.get("telephone"))
    return errors.build(
        Receiver,
        {"name": _text(consignee.get("fullname")), "phone": phone, "address": address},
        {"name": f"{where}.fullname", "phone": f"{where}.mobile", "address": None},
    )


def _lines(order: Mapping[str, Any], errors: FieldErrors) -> tuple[OrderLine, ...] | None:
    items = order.get("itemInfoList")
    where_all = f"{_ROOT}.itemInfoList"
    if not isinstance(items, Sequence) or isinstance(items, str) or not items:
        errors.add(where_all, "required: at least one item")
        return None
    if len(items) > MAX_LINES:
        errors.add(where_all, f"at most {MAX_LINES} items")
        return None
    lines: list[OrderLine] = []
    for i, item in enumerate(items):
        where = f"{where_all}[{i}]"
        if not isinstance(item, Mapping):
            errors.add(where, "must be an object")
            continue
        sku_id = _id_text(item.get("skuId"))
        line = errors.build(
            OrderLine,
            {
                # Items without a seller code are still shippable: fall back to JD's sku id.
                "sku": _text(item.get("outerSkuId")) or (f"sku:{sku_id}" if sku_id else None),
                "name": _text(item.get("skuName")),
                "quantity": item.get("itemTotal"),
                "unit_price": _yuan(item.get("jdPrice")),
            },
            {
                "sku": f"{where}.outerSkuId",
                "name": f"{where}.skuName",
                "quantity": f"{where}.itemTotal",
                "unit_price": f"{where}.jdPrice",
            },
        )
        if line is not None:
            lines.append(line)
    return tuple(lines) if len(lines) == len(items) else None


def _amounts(order: Mapping[str, Any], errors: FieldErrors) -> Amounts | None:
    return errors.build(
        Amounts,
        {
            "goods_total": _yuan(order.get("orderTotalPrice")),
            "shipping_fee": _yuan(order.get("freightPrice") or "0"),
            "discount": _yuan(order.get("sellerDiscount") or "0"),
            "paid_total": _yuan(order.get("orderPayment")),
        },
        {
            "goods_total": f"{_ROOT}.orderTotalPrice",
            "shipping_fee": f"{_ROOT}.freightPrice",
            "discount": f"{_ROOT}.sellerDiscount",
            "paid_total": f"{_ROOT}.orderPayment",
        },
    )


def _paid_at(order: Mapping[str, Any], errors: FieldErrors) -> datetime | None:
    # Cash-on-delivery orders have no payment time (JOS may send "0001-01-01 00:00:00"):
    # the order time stands in.
    raw_paid = order.get("paymentConfirmTime")
    confirmed = _china_time(raw_paid)
    if raw_paid and confirmed is None:
        errors.add(f"{_ROOT}.paymentConfirmTime", "must be yyyy-MM-dd HH:mm:ss")
        return None
    if confirmed is not None and confirmed.year >= NO_TIME_BEFORE:
        return confirmed
    raw = order.get("orderStartTime")
    if not raw:
        errors.add(f"{_ROOT}.paymentConfirmTime", "required: paymentConfirmTime or orderStartTime")
        return None
    moment = _china_time(raw)
    if moment is None:
        errors.add(f"{_ROOT}.orderStartTime", "must be yyyy-MM-dd HH:mm:ss")
    return moment
