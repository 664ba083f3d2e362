"""Douyin shop orders (抖店开放平台) mapped to a CanonicalOrder.

抖店's 消息推送 (e.g. doudian_trade_TradePaid) POSTs only a notification, a JSON array of
{tag, msg_id, data} with the order id, and the order comes from order.orderDetail. So the body
modelled here is that response's `data`, as a relay posts it:
    {"shop_order_detail": {"order_id": "6919283746501234567", "order_status": 2, ...}}
Field names are the API's. Money is in fen as integers (order_amount 9900 is 99.00 yuan) and
is converted exactly; times are unix seconds; order ids are strings of 19 digits (> 2^53).

Signature, as 抖店's push signs it (op.jinritemai.com docs/guide-docs/153/99; also the
doudian Python SDK's callback() and SKIT.FlurlHttpClient.ByteDance.DouyinShop's
VerifyEventSignature):
    app-id:      the app key
    event-sign:  hex md5(app_key + raw body + app_secret)   (compared case-insensitively)
    sign-method: optional; only "md5" is implemented, any other value is refused
The scheme signs no timestamp, so there is no freshness check. The secret is the app's: it is
looked up as ("douyin", app-id). CanonicalOrder.shop_id is shop_order_detail.shop_id.

Receiver data: 抖店 encrypts receivers (encrypt_post_receiver, encrypt_post_tel,
post_addr.encrypt_detail) and offers masked twins (mask_post_receiver, mask_post_tel,
mask_post_addr). The plain field (post_receiver, post_tel, post_addr.detail) is used when a
relay has decrypted it, else the masked one, else the ciphertext, as given; review flags an
unusable phone.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from lvyue.common.contracts.order import Address, Amounts, CanonicalOrder, OrderLine, Receiver

from .base import FieldErrors, PayloadError, SecretLookup, SignatureError, header

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")
APP_ID_HEADER = "app-id"
SIGN_HEADER = "event-sign"
SIGN_METHOD_HEADER = "sign-method"
# order_status: 1 待确认/待支付, 105 已支付, 2 备货中, 101 部分发货, 3 已发货, 4 已取消, 5 已完成.
PAID_STATUSES = frozenset({105, 2, 101, 3, 5})
MAX_LINES = 500
MAX_REMARKS = 2000
MAX_NAME, MAX_PHONE, MAX_STREET = 64, 32, 255  # the contract's limits
_NAME_FIELDS = ("post_receiver", "mask_post_receiver", "encrypt_post_receiver")
_TEL_FIELDS = ("post_tel", "mask_post_tel", "encrypt_post_tel")
_ROOT = "shop_order_detail"
_FEN = Decimal("0.01")


def event_sign(app_key: str, secret: str, body: bytes) -> str:
    """抖店's push signature: lower-case hex md5 of app key, raw body and app secret."""
    return hashlib.md5(app_key.encode() + body + secret.encode()).hexdigest()


class DouyinAdapter:
    """Adapter for 抖店 orders, pushed as order.orderDetail's data."""

    name = "douyin"

    def verify(
        self,
        headers: Mapping[str, str],
        body: bytes,
        secrets: SecretLookup,
        *,
        now: datetime,  # unused: 抖店 signs no timestamp
    ) -> None:
        signature = header(headers, SIGN_HEADER)
        if signature is None:
            raise SignatureError(f"header {SIGN_HEADER} missing")
        app_key = header(headers, APP_ID_HEADER)
        if app_key is None:
            raise SignatureError(f"header {APP_ID_HEADER} missing")
        method = (header(headers, SIGN_METHOD_HEADER) or "md5").lower()
        if method != "md5":
            raise SignatureError(f"header {SIGN_METHOD_HEADER} {method!r} not supported")
        secret = secrets(self.name, app_key)
        if not secret:
            raise SignatureError(f"unknown app-id {app_key!r}")
        expected = event_sign(app_key, secret, body)
        if not hmac.compare_digest(expected.encode(), signature.lower().encode()):
            raise SignatureError("signature mismatch")

    def delivery_id(self, headers: Mapping[str, str], payload: Mapping[str, Any]) -> str | None:
        return None  # msg_id stays in the notification; the route uses the body's hash

    def shop_id(self, headers: Mapping[str, str], payload: Mapping[str, Any]) -> str:
        detail = _mapping(payload.get(_ROOT)) if isinstance(payload, Mapping) else {}
        shop = _id_text(detail.get("shop_id"))
        if shop is None:
            raise PayloadError([(f"{_ROOT}.shop_id", "required: the shop id")])
        return shop

    def to_canonical(
        self, headers: Mapping[str, str], payload: Mapping[str, Any]
    ) -> CanonicalOrder:
        if not isinstance(payload, Mapping) or not isinstance(payload.get(_ROOT), Mapping):
            raise PayloadError([(_ROOT, "required: the data of order.orderDetail")])
        detail: Mapping[str, Any] = payload[_ROOT]
        errors = FieldErrors()
        shop = _id_text(detail.get("shop_id"))
        if shop is None:
            errors.add(f"{_ROOT}.shop_id", "required")
        order_id = _id_text(detail.get("order_id"))
        if order_id is None:
            errors.add(f"{_ROOT}.order_id", "required: the order id as a digit string")
        receiver = _receiver(detail, errors)
        lines = _lines(detail, errors)
        amounts = _amounts(detail, lines, errors)
        paid_at = _paid_at(detail, errors)
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
            buyer_id=_short(detail.get("doudian_open_id")),
            receiver=receiver,
            lines=lines,
            amounts=amounts,
            paid_at=paid_at,
            paid=detail.get("order_status") in PAID_STATUSES,
            # The order detail documents no urgent or promotion flag.
            remarks=_remarks(buyer=detail.get("buyer_words"), seller=detail.get("seller_words")),
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
    """A numeric id as exact digits; bools and floats are not ids."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return value.strip()
    return None


def fen_to_yuan(value: Any) -> Decimal | None:
    """Integer fen (a JSON integer or digit string) as an exact yuan Decimal, else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (Decimal(value) * _FEN).quantize(_FEN)
    text = value.strip() if isinstance(value, str) else ""
    if text.isascii() and text.lstrip("-").isdigit():
        return (Decimal(text) * _FEN).quantize(_FEN)
    return None


def _fen(value: Any, field: str, errors: FieldErrors) -> tuple[Decimal | None, str | None]:
    """(the amount in yuan, the field to report contract errors under, None if reported).

    A float such as 99.5 is no fen amount; passing it on would read it as yuan.
    """
    if value is None:
        return None, field
    yuan = fen_to_yuan(value)
    if yuan is None:
        errors.add(field, "must be an integer amount in fen")
        return None, None
    return yuan, field


def _remarks(*, buyer: Any, seller: Any) -> str:
    parts = [
        f"{label}：{text}"
        for label, text in (("买家留言", _text(buyer)), ("卖家备注", _text(seller)))
        if text
    ]
    return "\n".join(parts)[:MAX_REMARKS]


def _fitting(limit: int, *values: str | None) -> str | None:
    """The first value that fits the contract's limit, else the first one cut to fit.

    A ciphertext can be longer than any name or phone: cut, it is as unusable as whole (review
    flags the phone), but the paid order is still taken in; the stored raw body keeps it whole.
    """
    given = [value for value in values if value]
    return next((v for v in given if len(v) <= limit), given[0][:limit] if given else None)


def _receiver(detail: Mapping[str, Any], errors: FieldErrors) -> Receiver | None:
    where = f"{_ROOT}.post_addr"
    plain, masked = detail.get("post_addr"), detail.get("mask_post_addr")
    post_addr = plain if isinstance(plain, Mapping) else masked
    if not isinstance(post_addr, Mapping):
        errors.add(where, "required: the order has no delivery address")
        return None
    street = _text(_mapping(post_addr.get("street")).get("name")) or ""
    line = _fitting(
        MAX_STREET - len(street),
        _text(_mapping(plain).get("detail")),
        _text(_mapping(masked).get("detail")),
        _text(_mapping(plain).get("encrypt_detail")),
    )
    if line is not None and street and line.startswith(street):
        street = ""  # the detail line already names its street
    address = errors.build(
        Address,
        {
            "province": _text(_mapping(post_addr.get("province")).get("name")),
            "city": _text(_mapping(post_addr.get("city")).get("name")),
            "district": _text(_mapping(post_addr.get("town")).get("name")),  # 抖店's 区县
            "street": street + line if line is not None else None,
        },
        {
            "province": f"{where}.province.name",
            "city": f"{where}.city.name",
            "district": f"{where}.town.name",
            "street": f"{where}.detail",
        },
    )
    return errors.build(
        Receiver,
        {
            "name": _fitting(
                MAX_NAME,
                *(_text(detail.get(f)) for f in _NAME_FIELDS),
            ),
            "phone": _fitting(MAX_PHONE, *(_text(detail.get(f)) for f in _TEL_FIELDS)),
            "address": address,
        },
        {
            "name": f"{_ROOT}.post_receiver",
            "phone": f"{_ROOT}.post_tel",
            "address": None,  # its fields were reported above
        },
    )


def _lines(detail: Mapping[str, Any], errors: FieldErrors) -> tuple[OrderLine, ...] | None:
    items = detail.get("sku_order_list")
    where_all = f"{_ROOT}.sku_order_list"
    if not isinstance(items, Sequence) or isinstance(items, str) or not items:
        errors.add(where_all, "required: at least one sku order")
        return None
    if len(items) > MAX_LINES:
        errors.add(where_all, f"at most {MAX_LINES} sku orders")
        return None
    lines: list[OrderLine] = []
    for i, item in enumerate(items):
        where = f"{where_all}[{i}]"
        if not isinstance(item, Mapping):
            errors.add(where, "must be an object")
            continue
        sku_id = _id_text(item.get("sku_id"))
        out_sku_id = _id_text(item.get("out_sku_id")) or _text(item.get("out_sku_id"))
        unit_price, price_path = _fen(item.get("origin_amount"), f"{where}.origin_amount", errors)
        line = errors.build(
            OrderLine,
            {
                # `code` is the seller's SKU code (商家编码); without one, fall back to ids.
                "sku": _text(item.get("code"))
                or out_sku_id
                or (f"sku:{sku_id}" if sku_id else None),
                "name": _text(item.get("product_name")),
                "quantity": item.get("item_num"),
                "unit_price": unit_price,
            },
            {
                "sku": f"{where}.code",
                "name": f"{where}.product_name",
                "quantity": f"{where}.item_num",
                "unit_price": price_path,
            },
        )
        if line is not None:
            lines.append(line)
    return tuple(lines) if len(lines) == len(items) else None


def _goods_total(detail: Mapping[str, Any], lines: tuple[OrderLine, ...] | None) -> Any:
    """Goods before discounts: the sku orders' sum_amount (商品现总价), else the lines' sum."""
    items = detail.get("sku_order_list")
    if isinstance(items, Sequence) and not isinstance(items, str) and items:
        sums = [fen_to_yuan(_mapping(item).get("sum_amount")) for item in items]
        if all(s is not None for s in sums):
            return sum((s for s in sums if s is not None), Decimal(0))
    if lines is not None:
        return sum((ln.unit_price * ln.quantity for ln in lines), Decimal(0))
    return None


def _amounts(
    detail: Mapping[str, Any], lines: tuple[OrderLine, ...] | None, errors: FieldErrors
) -> Amounts | None:
    shipping, shipping_path = _fen(detail.get("post_amount") or 0, f"{_ROOT}.post_amount", errors)
    discount, discount_path = _fen(
        detail.get("promotion_amount") or 0, f"{_ROOT}.promotion_amount", errors
    )
    paid, paid_path = _fen(detail.get("pay_amount"), f"{_ROOT}.pay_amount", errors)
    return errors.build(
        Amounts,
        {
            "goods_total": _goods_total(detail, lines),
            "shipping_fee": shipping,
            "discount": discount,
            "paid_total": paid,
        },
        {
            # Without lines the goods total is unknown; the lines' errors were reported.
            "goods_total": f"{_ROOT}.sku_order_list" if lines is not None else None,
            "shipping_fee": shipping_path,
            "discount": discount_path,
            "paid_total": paid_path,
        },
    )


def _paid_at(detail: Mapping[str, Any], errors: FieldErrors) -> datetime | None:
    # An unpaid order has pay_time 0 or none: its creation time stands in (paid=False says so).
    field = "pay_time" if detail.get("pay_time") else "create_time"
    raw = detail.get(field)
    if raw is None:
        errors.add(f"{_ROOT}.pay_time", "required: pay_time or create_time")
        return None
    if not isinstance(raw, int) or isinstance(raw, bool) or raw <= 0:
        errors.add(f"{_ROOT}.{field}", "must be unix seconds")
        return None
    try:
        return datetime.fromtimestamp(raw, CHINA)
    except (OverflowError, OSError, ValueError):
        errors.add(f"{_ROOT}.{field}", "out of range")
        return None
