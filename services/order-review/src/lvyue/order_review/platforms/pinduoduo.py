"""Pinduoduo orders (拼多多开放平台) mapped to a CanonicalOrder.

Pinduoduo pushes no order body over HTTP: its 消息服务 (e.g. pdd_trade_TradeConfirmed) sends
a notification over a WebSocket, and the order comes from pdd.order.information.get. So the
body modelled here is that response's `order_info` object, as a relay posts it:
    {"order_info": {"order_sn": "240618-523760187440571", "confirm_status": 1, ...}}
Field names are the API's. Money is in yuan, as the API documents it (pay_amount "支付金额（元）";
a JSON number such as 118.8 or a string); times are "yyyy-MM-dd HH:mm:ss" in GMT+8.

Signature: Pinduoduo's API rule (sort every parameter except `sign` by name, concatenate
name+value, wrap in client_secret, MD5, upper-case hex), with the raw body appended after the
parameters as TOP's SPI rule does, since the platform documents no signed HTTP push:
    sign = HEX_UPPER(md5(client_secret + k1v1k2v2... + body + client_secret))
over the parameters present of access_token, client_id, data_type, timestamp, type, version.
`timestamp` is unix seconds and must lie within the tolerance (default 10 minutes, the
platform's own limit for API calls). The route hands adapters headers only, so those
parameters are read by name from the headers. The secret is the app's: it is looked up as
("pinduoduo", client_id). order_info carries no mall id, so CanonicalOrder.shop_id is the
client_id too: one app per mall (a merchant's own app), as this adapter assumes.

Receiver data: receiver_name/receiver_phone/receiver_address are plain only while the order
awaits shipment, otherwise masked ("1387677****"); after 密文改造 they are ciphertext with
*_mask twins. The plain field is used when present, else the *_mask one, as given; review
flags an unusable phone.
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
SYSTEM_PARAMS = ("access_token", "client_id", "data_type", "timestamp", "type", "version")
CLIENT_ID = "client_id"
CONFIRMED = 1  # confirm_status 1: 已成交 (paid and, for a group buy, the group is complete)
MAX_LINES = 500
MAX_REMARKS = 2000
MAX_NAME, MAX_PHONE, MAX_STREET = 64, 32, 255  # the contract's limits
_ROOT = "order_info"


def pdd_sign(secret: str, params: Mapping[str, str], body: bytes) -> str:
    """Pinduoduo's MD5 signature of the parameters and body, upper-case hex."""
    key = secret.encode()
    joined = "".join(f"{name}{params[name]}" for name in sorted(params) if name != "sign")
    return hashlib.md5(key + joined.encode() + body + key).hexdigest().upper()


class PinduoduoAdapter:
    """Adapter for Pinduoduo orders, pushed as pdd.order.information.get's order_info."""

    name = "pinduoduo"

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
        client_id = params.get(CLIENT_ID)
        if not client_id:
            raise SignatureError("parameter client_id missing")
        timestamp = params.get("timestamp")
        if not timestamp:
            raise SignatureError("parameter timestamp missing")
        if not (timestamp.isascii() and timestamp.isdigit()):
            raise SignatureError("parameter timestamp malformed: expected unix seconds")
        secret = secrets(self.name, client_id)
        if not secret:
            raise SignatureError(f"unknown client_id {client_id!r}")
        if not hmac.compare_digest(pdd_sign(secret, params, body).encode(), sign.encode()):
            raise SignatureError("signature mismatch")
        # Checked after the signature so only authentic senders learn about clock skew.
        if not verify_timestamp(timestamp, now, self.tolerance):
            raise SignatureError(f"parameter timestamp outside the allowed {self.tolerance} of now")

    def delivery_id(self, headers: Mapping[str, str], payload: Mapping[str, Any]) -> str | None:
        return None  # no delivery id is sent; the route falls back to the body's hash

    def shop_id(self, headers: Mapping[str, str], payload: Mapping[str, Any]) -> str:
        client_id = normalize_headers(headers).get(CLIENT_ID)
        if not client_id:
            raise PayloadError([(CLIENT_ID, "parameter missing")])
        return client_id

    def to_canonical(
        self, headers: Mapping[str, str], payload: Mapping[str, Any]
    ) -> CanonicalOrder:
        shop = self.shop_id(headers, payload)
        if not isinstance(payload, Mapping) or not isinstance(payload.get(_ROOT), Mapping):
            raise PayloadError([(_ROOT, "required: the order_info object of the order detail")])
        order: Mapping[str, Any] = payload[_ROOT]
        errors = FieldErrors()
        order_id = _text(order.get("order_sn"))
        if order_id is None:
            errors.add(f"{_ROOT}.order_sn", "required: the order number")
        receiver = _receiver(order, errors)
        lines = _lines(order, errors)
        amounts = _amounts(order, errors)
        paid_at = _paid_at(order, errors)
        if (
            errors.items
            or order_id is None
            or receiver is None
            or lines is None
            or amounts is None
            or paid_at is None
        ):
            raise PayloadError(errors.items)
        confirm_status = order.get("confirm_status")
        return CanonicalOrder(
            platform=self.name,
            shop_id=shop,
            platform_order_id=order_id,
            receiver=receiver,
            lines=lines,
            amounts=amounts,
            paid_at=paid_at,
            # 未成交 (0) is a group buy still forming or unpaid: not shippable yet.
            paid=confirm_status == CONFIRMED
            if confirm_status is not None
            else bool(order.get("pay_time")),
            # The order detail documents no urgent or promotion flag.
            remarks=_remarks(buyer=order.get("buyer_memo"), seller=order.get("remark")),
        )


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


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


def _receiver_text(order: Mapping[str, Any], field: str, limit: int) -> str | None:
    """The plain value, else the *_mask one, else the ciphertext cut to the contract's limit.

    After 密文改造 the plain field holds a ciphertext ("~...~"): the mask is more use to people.
    A cut ciphertext is as unusable as a whole one (review flags the phone), but the paid order
    is still taken in; the stored raw body keeps it whole.
    """
    value = _text(order.get(field))
    cipher = value if value is not None and value.startswith("~") else None
    plain = value if cipher is None and value is not None and len(value) <= limit else None
    fallback = cipher or value
    return plain or _text(order.get(f"{field}_mask")) or (fallback[:limit] if fallback else None)


def _receiver(order: Mapping[str, Any], errors: FieldErrors) -> Receiver | None:
    # receiver_address is the street line alone; address repeats province, city and town.
    street = _receiver_text(order, "receiver_address", MAX_STREET) or _text(order.get("address"))
    address = errors.build(
        Address,
        {
            "province": _text(order.get("province")),
            "city": _text(order.get("city")),
            "district": _text(order.get("town")),  # Pinduoduo's town is the 区县
            "street": street,
        },
        {
            "province": f"{_ROOT}.province",
            "city": f"{_ROOT}.city",
            "district": f"{_ROOT}.town",
            "street": f"{_ROOT}.receiver_address",
        },
    )
    return errors.build(
        Receiver,
        {
            "name": _receiver_text(order, "receiver_name", MAX_NAME),
            "phone": _receiver_text(order, "receiver_phone", MAX_PHONE),
            "address": address,
        },
        {
            "name": f"{_ROOT}.receiver_name",
            "phone": f"{_ROOT}.receiver_phone",
            "address": None,  # its fields were reported above
        },
    )


def _lines(order: Mapping[str, Any], errors: FieldErrors) -> tuple[OrderLine, ...] | None:
    items = order.get("item_list")
    where_all = f"{_ROOT}.item_list"
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
        sku_id = _id_text(item.get("sku_id"))
        line = errors.build(
            OrderLine,
            {
                # Items without a seller code are still shippable: fall back to the sku id.
                "sku": _text(item.get("outer_id")) or (f"sku:{sku_id}" if sku_id else None),
                "name": _text(item.get("goods_name")),
                "quantity": item.get("goods_count"),
                "unit_price": _yuan(item.get("goods_price")),
            },
            {
                "sku": f"{where}.outer_id",
                "name": f"{where}.goods_name",
                "quantity": f"{where}.goods_count",
                "unit_price": f"{where}.goods_price",
            },
        )
        if line is not None:
            lines.append(line)
    return tuple(lines) if len(lines) == len(items) else None


def _amounts(order: Mapping[str, Any], errors: FieldErrors) -> Amounts | None:
    return errors.build(
        Amounts,
        {
            "goods_total": _yuan(order.get("goods_amount")),
            "shipping_fee": _yuan(order.get("postage") or 0),
            "discount": _yuan(order.get("discount_amount") or 0),
            "paid_total": _yuan(order.get("pay_amount")),
        },
        {
            "goods_total": f"{_ROOT}.goods_amount",
            "shipping_fee": f"{_ROOT}.postage",
            "discount": f"{_ROOT}.discount_amount",
            "paid_total": f"{_ROOT}.pay_amount",
        },
    )


def _paid_at(order: Mapping[str, Any], errors: FieldErrors) -> datetime | None:
    # An unpaid order has no pay_time yet: its creation time stands in (paid=False says so).
    field = "pay_time" if order.get("pay_time") else "created_time"
    raw = order.get(field)
    if not raw:
        errors.add(f"{_ROOT}.pay_time", "required: pay_time or created_time")
        return None
    moment = _china_time(raw)
    if moment is None:
        errors.add(f"{_ROOT}.{field}", "must be yyyy-MM-dd HH:mm:ss")
    return moment
