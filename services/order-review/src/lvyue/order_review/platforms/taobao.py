"""Taobao/Tmall orders (淘宝开放平台 TOP) mapped to a CanonicalOrder.

TOP pushes no order body over HTTP: its 消息服务 (TMC, e.g. taobao_trade_TradeBuyerPay) sends
only a notification over a long connection, and the order comes from taobao.trade.fullinfo.get.
So the body modelled here is that response's `trade` object, as a relay posts it:
    {"trade": {"tid": 3512345678901234567, "status": "WAIT_SELLER_SEND_GOODS", ...}}
Field names are TOP's Trade/Order structs; money is a yuan string ("199.00"); times are
"yyyy-MM-dd HH:mm:ss" in GMT+8. Tmall orders come through the same API and struct, and the
struct has no documented Tmall flag, so one adapter serves both and the slug stays "taobao";
a deployment that wants its own path and secrets for Tmall shops registers
TaobaoAdapter(name="tmall").

Signature: TOP's SPI rule (taobao-sdk SpiUtils.checkSign4TextRequest): every URL parameter and
every header named in the `top-sign-list` header, except `sign`, sorted by name, concatenated
as name+value, then the raw body:
    sign = HEX_UPPER(md5(secret + k1v1k2v2... + body + secret))          sign_method=md5
    sign = HEX_UPPER(hmac_md5(secret, k1v1k2v2... + body))                sign_method=hmac
    sign = HEX_UPPER(hmac_sha256(secret, k1v1k2v2... + body))             sign_method=hmac-sha256
(hmac and hmac-sha256 follow TOP's API signing rule; SpiUtils itself implements md5 only.)
`timestamp` ("yyyy-MM-dd HH:mm:ss", GMT+8) must lie within the tolerance (default 10 minutes,
TOP's own limit for API calls). The webhook route hands adapters headers only, so TOP's URL
parameters (app_key, timestamp, sign, sign_method, method, v, format, customerId, ...) are
read by name from the headers: the route or a gateway must copy the query string there.
The secret is the app's: it is looked up as ("taobao", app_key). CanonicalOrder.shop_id is
the trade's seller_nick (the shop).

Receiver data: since OAID, TOP returns receiver_name/receiver_mobile/receiver_address masked
("张**", "138****5678"); they are mapped as given and review flags an unusable phone.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import unquote_plus

from lvyue.common.contracts.order import Address, Amounts, CanonicalOrder, OrderLine, Receiver
from lvyue.common.security import verify_timestamp

from .base import FieldErrors, PayloadError, SecretLookup, SignatureError, normalize_headers

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")
DEFAULT_TOLERANCE = timedelta(minutes=10)
SIGN_LIST_HEADER = "top-sign-list"
# TOP's system parameters as spelled in its docs; the spelling is part of the signed string.
SYSTEM_PARAMS = (
    "app_key",
    "customerId",
    "format",
    "method",
    "partner_id",
    "session",
    "sign_method",
    "simplify",
    "target_app_key",
    "timestamp",
    "v",
)
SIGN_METHODS = frozenset({"md5", "hmac", "hmac-sha256"})
# Paid: the buyer's money is with Alipay (WAIT_SELLER_SEND_GOODS onwards; TRADE_CLOSED is
# "closed after a refund", so it was paid). Unpaid: WAIT_BUYER_PAY, TRADE_NO_CREATE_PAY,
# PAY_PENDING, WAIT_PRE_AUTH_CONFIRM, TRADE_CLOSED_BY_TAOBAO.
PAID_STATUSES = frozenset(
    {
        "WAIT_SELLER_SEND_GOODS",
        "SELLER_CONSIGNED_PART",
        "WAIT_BUYER_CONFIRM_GOODS",
        "TRADE_BUYER_SIGNED",
        "TRADE_FINISHED",
        "TRADE_CLOSED",
        "PAID_FORBID_CONSIGN",
    }
)
NEXT_DAY_SHIPPING = "25"  # shipping_type 25: 次日必达, a delivery promise: urgent
JUHUASUAN = "JHS"  # trade_from JHS: 聚划算, a platform promotion
MAX_LINES = 500
MAX_REMARKS = 2000
_ROOT = "trade"


def top_sign(secret: str, params: Mapping[str, str], body: bytes, sign_method: str) -> str:
    """TOP's SPI signature of params and body, upper-case hex (see the module docstring)."""
    key = secret.encode()
    joined = "".join(f"{name}{params[name]}" for name in sorted(params) if name != "sign")
    message = joined.encode() + body
    if sign_method == "hmac":
        return hmac.new(key, message, hashlib.md5).hexdigest().upper()
    if sign_method == "hmac-sha256":
        return hmac.new(key, message, hashlib.sha256).hexdigest().upper()
    return hashlib.md5(key + message + key).hexdigest().upper()


class TaobaoAdapter:
    """Adapter for TOP trades (Taobao and Tmall), pushed as taobao.trade.fullinfo.get's trade."""

    def __init__(self, name: str = "taobao", tolerance: timedelta = DEFAULT_TOLERANCE) -> None:
        self.name = name
        self.tolerance = tolerance

    def verify(
        self,
        headers: Mapping[str, str],
        body: bytes,
        secrets: SecretLookup,
        *,
        now: datetime,
    ) -> None:
        params = signed_params(headers)
        sign = normalize_headers(headers).get("sign")
        if not sign:
            raise SignatureError("parameter sign missing")
        app_key = params.get("app_key")
        if not app_key:
            raise SignatureError("parameter app_key missing")
        timestamp = params.get("timestamp")
        if not timestamp:
            raise SignatureError("parameter timestamp missing")
        moment = parse_china_time(timestamp)
        if moment is None:
            raise SignatureError("parameter timestamp malformed: expected yyyy-MM-dd HH:mm:ss")
        sign_method = (params.get("sign_method") or "md5").lower()
        if sign_method not in SIGN_METHODS:
            raise SignatureError(f"sign_method {sign_method!r} not supported")
        secret = secrets(self.name, app_key)
        if not secret:
            raise SignatureError(f"unknown app_key {app_key!r}")
        expected = top_sign(secret, params, body, sign_method)
        if not hmac.compare_digest(expected.encode(), sign.encode()):
            raise SignatureError("signature mismatch")
        # Checked after the signature so only authentic senders learn about clock skew.
        if not verify_timestamp(moment, now, self.tolerance):
            raise SignatureError(f"parameter timestamp outside the allowed {self.tolerance} of now")

    def delivery_id(self, headers: Mapping[str, str], payload: Mapping[str, Any]) -> str | None:
        return None  # TOP sends no delivery id; the route falls back to the body's hash

    def shop_id(self, headers: Mapping[str, str], payload: Mapping[str, Any]) -> str:
        trade = _mapping(payload.get(_ROOT)) if isinstance(payload, Mapping) else {}
        shop = _text(trade.get("seller_nick"))
        if shop is None:
            raise PayloadError([(f"{_ROOT}.seller_nick", "required: the seller's shop nick")])
        return shop

    def to_canonical(
        self, headers: Mapping[str, str], payload: Mapping[str, Any]
    ) -> CanonicalOrder:
        if not isinstance(payload, Mapping) or not isinstance(payload.get(_ROOT), Mapping):
            raise PayloadError([(_ROOT, "required: the trade object of trade.fullinfo.get")])
        trade: Mapping[str, Any] = payload[_ROOT]
        errors = FieldErrors()
        shop = _text(trade.get("seller_nick"))
        if shop is None:
            errors.add(f"{_ROOT}.seller_nick", "required")
        order_id = _order_id(trade, errors)
        receiver = _receiver(trade, errors)
        lines = _lines(trade, errors)
        amounts = _amounts(trade, errors)
        paid_at = _paid_at(trade, errors)
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
        trade_from = {part.strip() for part in str(trade.get("trade_from") or "").split(",")}
        return CanonicalOrder(
            platform=self.name,
            shop_id=shop,
            platform_order_id=order_id,
            buyer_id=_short(trade.get("buyer_open_uid")),
            buyer_nick=_text(trade.get("buyer_nick")),
            receiver=receiver,
            lines=lines,
            amounts=amounts,
            paid_at=paid_at,
            paid=trade.get("status") in PAID_STATUSES,
            urgent=str(trade.get("shipping_type") or "") == NEXT_DAY_SHIPPING,
            promotion=JUHUASUAN in trade_from,
            remarks=remarks(buyer=trade.get("buyer_message"), seller=trade.get("seller_memo")),
        )


def signed_params(headers: Mapping[str, str]) -> dict[str, str]:
    """TOP's system parameters found in the headers, plus the headers top-sign-list names."""
    given = normalize_headers(headers)
    params = {name: given[name.lower()] for name in SYSTEM_PARAMS if name.lower() in given}
    for name in (given.get(SIGN_LIST_HEADER) or "").split(","):
        if name.strip():
            # SpiUtils URL-decodes the listed headers (java.net.URLDecoder: "+" is a space).
            params[name.strip()] = unquote_plus(given.get(name.strip().lower(), ""))
    return params


def parse_china_time(value: Any) -> datetime | None:
    """A TOP time, "yyyy-MM-dd HH:mm:ss" in GMT+8, as an aware datetime; None if malformed."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
    except ValueError:
        return None


def remarks(*, buyer: Any, seller: Any) -> str:
    """Buyer message and seller memo as one remark, each labelled; the first 2000 chars."""
    parts = [
        f"{label}：{text}"
        for label, text in (("买家留言", _text(buyer)), ("卖家备注", _text(seller)))
        if text
    ]
    return "\n".join(parts)[:MAX_REMARKS]


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
    """A numeric id as exact digits; bools and floats are not ids."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return value.strip()
    return None


def _yuan(value: Any) -> Any:
    """A yuan amount for the contract; a JSON float becomes the decimal it was written as."""
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def _order_id(trade: Mapping[str, Any], errors: FieldErrors) -> str | None:
    order_id = _id_text(trade.get("tid_str")) or _id_text(trade.get("tid"))
    if order_id is None:
        if isinstance(trade.get("tid"), float):
            errors.add(f"{_ROOT}.tid", "a float may have rounded the id; send tid_str")
        else:
            errors.add(f"{_ROOT}.tid", "required: the trade id")
    return order_id


def _receiver(trade: Mapping[str, Any], errors: FieldErrors) -> Receiver | None:
    province = _text(trade.get("receiver_state"))
    city = _text(trade.get("receiver_city"))
    district = _text(trade.get("receiver_district"))
    if city is None and district is not None:
        # TOP keeps 省直辖县级行政区 (e.g. 济源) in receiver_district: it is the city then.
        city, district = district, None
    town = _text(trade.get("receiver_town")) or ""
    street = _text(trade.get("receiver_address"))
    if street is not None and town and not street.startswith(town):
        street = town + street
    address = errors.build(
        Address,
        {
            "province": province,
            "city": city,
            "district": district,
            "street": street,
            "postal_code": trade.get("receiver_zip"),
        },
        {
            "province": f"{_ROOT}.receiver_state",
            "city": f"{_ROOT}.receiver_city",
            "district": f"{_ROOT}.receiver_district",
            "street": f"{_ROOT}.receiver_address",
            "postal_code": f"{_ROOT}.receiver_zip",
        },
    )
    phone = _text(trade.get("receiver_mobile")) or _text(trade.get("receiver_phone"))
    return errors.build(
        Receiver,
        {"name": _text(trade.get("receiver_name")), "phone": phone, "address": address},
        {
            "name": f"{_ROOT}.receiver_name",
            "phone": f"{_ROOT}.receiver_mobile",
            "address": None,  # its fields were reported above
        },
    )


def _order_list(trade: Mapping[str, Any]) -> Any:
    """TOP's JSON wraps lists: "orders": {"order": [...]}; a plain list is accepted too."""
    orders = trade.get("orders")
    return orders.get("order") if isinstance(orders, Mapping) else orders


def _lines(trade: Mapping[str, Any], errors: FieldErrors) -> tuple[OrderLine, ...] | None:
    items = _order_list(trade)
    where_all = f"{_ROOT}.orders.order"
    if not isinstance(items, Sequence) or isinstance(items, str) or not items:
        errors.add(where_all, "required: at least one order")
        return None
    if len(items) > MAX_LINES:
        errors.add(where_all, f"at most {MAX_LINES} orders")
        return None
    lines: list[OrderLine] = []
    for i, item in enumerate(items):
        where = f"{where_all}[{i}]"
        if not isinstance(item, Mapping):
            errors.add(where, "must be an object")
            continue
        sku_id = _id_text(item.get("sku_id"))
        line = errors.build(
            OrderLine,
            {
                # Items without a seller code are still shippable: fall back to TOP's ids.
                "sku": _text(item.get("outer_sku_id"))
                or _text(item.get("outer_iid"))
                or (f"sku:{sku_id}" if sku_id else None),
                "name": _text(item.get("title")),
                "quantity": item.get("num"),
                "unit_price": _yuan(item.get("price")),
            },
            {
                "sku": f"{where}.outer_sku_id",
                "name": f"{where}.title",
                "quantity": f"{where}.num",
                "unit_price": f"{where}.price",
            },
        )
        if line is not None:
            lines.append(line)
    return tuple(lines) if len(lines) == len(items) else None


def _amounts(trade: Mapping[str, Any], errors: FieldErrors) -> Amounts | None:
    return errors.build(
        Amounts,
        {
            "goods_total": _yuan(trade.get("total_fee")),
            "shipping_fee": _yuan(trade.get("post_fee") or "0"),
            "discount": _yuan(trade.get("discount_fee") or "0"),
            "paid_total": _yuan(trade.get("payment")),
        },
        {
            "goods_total": f"{_ROOT}.total_fee",
            "shipping_fee": f"{_ROOT}.post_fee",
            "discount": f"{_ROOT}.discount_fee",
            "paid_total": f"{_ROOT}.payment",
        },
    )


def _paid_at(trade: Mapping[str, Any], errors: FieldErrors) -> datetime | None:
    # An unpaid trade has no pay_time yet: its creation time stands in (paid=False says so).
    field = "pay_time" if trade.get("pay_time") else "created"
    raw = trade.get(field)
    if not raw:
        errors.add(f"{_ROOT}.pay_time", "required: pay_time or created")
        return None
    moment = parse_china_time(raw)
    if moment is None:
        errors.add(f"{_ROOT}.{field}", "must be yyyy-MM-dd HH:mm:ss")
    return moment
