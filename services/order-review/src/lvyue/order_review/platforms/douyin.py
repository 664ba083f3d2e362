"""Douyin shop orders (抖店开放平台) mapped to a CanonicalOrder.

抖店's 消息推送 (e.g. doudian_trade_TradePaid) POSTs only a notification, a JSON array of
{tag, msg_id, data} with the order id, and the order comes from order.orderDetail. So the body
modelled here is that response's `data`, as a relay posts it:
    {"shop_order_detail": {"order_id": "6919283746501234567", "order_status": 2, ...}}
Field names are the API's. Money is in fen as integers (order_amount 9900 is 99.00 yuan) and
is converted exactly; times are unix seconds; order ids are strings of 19 digits (> 2^53).

Signature of 抖店's push (the official page op.jinritemai.com/docs/guide-docs/153/99 as cited
by SKIT.FlurlHttpClient.ByteDance.DouyinShop's VerifyEventSignature; the doudian Python SDK's
callback() checks the same; the page itself was not available to read):
    app-id:      the app key
    event-sign:  hex md5(app_key + raw body + app_secret)   (compared case-insensitively)
    sign-method: optional; only "md5" is implemented: no source seen documents another
                 algorithm's string to sign, so any other value is refused, not guessed
The scheme signs no timestamp, so there is no freshness check. The secret is the app's: it is
looked up as ("douyin", app-id). CanonicalOrder.shop_id is shop_order_detail.shop_id.

Receiver data: 抖店 encrypts receivers (encrypt_post_receiver, encrypt_post_tel,
post_addr.encrypt_detail) and offers masked twins (mask_post_receiver, mask_post_tel,
mask_post_addr). The plain field (post_receiver, post_tel, post_addr.detail) is used when a
relay has decrypted it, else the masked one, else the ciphertext, as given; review flags an
unusable phone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from lvyue.common.contracts.order import Address, Amounts, CanonicalOrder, OrderLine, Receiver
from lvyue.common.platform_signing.pushes import DouyinPush
from lvyue.common.webhooks.fields import digits_id, fen_to_yuan, mapping, text

from ._fields import (
    CHINA,
    MAX_NAME,
    MAX_PHONE,
    MAX_STREET,
    build,
    build_receiver,
    canonical_order,
    one_of,
    order_lines,
    order_parts,
    order_time,
    remarks,
    require,
    required_section,
    section,
    short,
)
from .base import FieldErrors, PayloadError

# order_status: 1 待确认/待支付, 105 已支付, 2 备货中, 101 部分发货, 3 已发货, 4 已取消, 5 已完成.
PAID_STATUSES = frozenset({105, 2, 101, 3, 5})
_NAME_FIELDS = ("post_receiver", "mask_post_receiver", "encrypt_post_receiver")
_TEL_FIELDS = ("post_tel", "mask_post_tel", "encrypt_post_tel")
_ROOT = "shop_order_detail"


class DouyinAdapter(DouyinPush):
    """Adapter for 抖店 orders, pushed as order.orderDetail's data."""

    def delivery_id(self, headers: Mapping[str, str], payload: Mapping[str, Any]) -> str | None:
        return None  # msg_id stays in the notification; the route uses the body's hash

    def shop_id(self, headers: Mapping[str, str], payload: Mapping[str, Any]) -> str:
        shop = digits_id(section(payload, _ROOT).get("shop_id"))
        if shop is None:
            raise PayloadError([(f"{_ROOT}.shop_id", "required: the shop id")])
        return shop

    def to_canonical(
        self,
        headers: Mapping[str, str],
        payload: Mapping[str, Any],
        *,
        now: datetime | None = None,
    ) -> CanonicalOrder:
        detail = required_section(payload, _ROOT, "required: the data of order.orderDetail")
        errors = FieldErrors()
        shop = require(digits_id(detail.get("shop_id")), f"{_ROOT}.shop_id", errors)
        order_id = require(
            digits_id(detail.get("order_id")),
            f"{_ROOT}.order_id",
            errors,
            "required: the order id as a digit string",
        )
        receiver = _receiver(detail, errors)
        where = f"{_ROOT}.sku_order_list"
        lines = order_lines(detail.get("sku_order_list"), where, "sku order", errors, _line)
        amounts = _amounts(detail, lines, errors)
        paid_at = _paid_at(detail, errors, now)
        parts = order_parts(errors, shop, order_id, receiver, lines, amounts, paid_at)
        return canonical_order(
            errors,
            parts,
            now,
            paths={"buyer_id": f"{_ROOT}.doudian_open_id"},
            platform=self.name,
            buyer_id=short(detail.get("doudian_open_id")),
            paid=one_of(detail.get("order_status"), PAID_STATUSES),
            # The order detail documents no urgent or promotion flag.
            remarks=remarks(buyer=detail.get("buyer_words"), seller=detail.get("seller_words")),
        )


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
    street = text(mapping(post_addr.get("street")).get("name")) or ""
    line = _fitting(
        MAX_STREET - len(street),
        text(mapping(plain).get("detail")),
        text(mapping(masked).get("detail")),
        text(mapping(plain).get("encrypt_detail")),
    )
    if line is not None and street and line.startswith(street):
        street = ""  # the detail line already names its street
    address = build(
        errors,
        Address,
        province=(text(mapping(post_addr.get("province")).get("name")), f"{where}.province.name"),
        city=(text(mapping(post_addr.get("city")).get("name")), f"{where}.city.name"),
        # 抖店's town is the 区县
        district=(text(mapping(post_addr.get("town")).get("name")), f"{where}.town.name"),
        street=(street + line if line is not None else None, f"{where}.detail"),
    )
    return build_receiver(
        errors,
        name=(
            _fitting(MAX_NAME, *(text(detail.get(f)) for f in _NAME_FIELDS)),
            f"{_ROOT}.post_receiver",
        ),
        phone=(
            _fitting(MAX_PHONE, *(text(detail.get(f)) for f in _TEL_FIELDS)),
            f"{_ROOT}.post_tel",
        ),
        address=address,
    )


def _line(item: Mapping[str, Any], where: str, errors: FieldErrors) -> OrderLine | None:
    sku_id = digits_id(item.get("sku_id"))
    out_sku_id = digits_id(item.get("out_sku_id")) or text(item.get("out_sku_id"))
    unit_price, price_path = _fen(item.get("origin_amount"), f"{where}.origin_amount", errors)
    # `code` is the seller's SKU code (商家编码); without one, fall back to ids.
    sku = text(item.get("code")) or out_sku_id or (f"sku:{sku_id}" if sku_id else None)
    return build(
        errors,
        OrderLine,
        sku=(sku, f"{where}.code"),
        name=(text(item.get("product_name")), f"{where}.product_name"),
        quantity=(item.get("item_num"), f"{where}.item_num"),
        unit_price=(unit_price, price_path),
    )


def _goods_total(detail: Mapping[str, Any], lines: tuple[OrderLine, ...] | None) -> Any:
    """Goods before discounts: the sku orders' sum_amount (商品现总价), else the lines' sum."""
    items = detail.get("sku_order_list")
    if isinstance(items, Sequence) and not isinstance(items, str) and items:
        sums = [fen_to_yuan(mapping(item).get("sum_amount")) for item in items]
        if all(s is not None for s in sums):
            return sum((s for s in sums if s is not None), Decimal(0))
    if lines is not None:
        return sum((ln.unit_price * ln.quantity for ln in lines), Decimal(0))
    return None


def _amounts(
    detail: Mapping[str, Any], lines: tuple[OrderLine, ...] | None, errors: FieldErrors
) -> Amounts | None:
    shipping = _fen(detail.get("post_amount") or 0, f"{_ROOT}.post_amount", errors)
    discount = _fen(detail.get("promotion_amount") or 0, f"{_ROOT}.promotion_amount", errors)
    paid = _fen(detail.get("pay_amount"), f"{_ROOT}.pay_amount", errors)
    return build(
        errors,
        Amounts,
        # Without lines the goods total is unknown; the lines' errors were reported.
        goods_total=(
            _goods_total(detail, lines),
            f"{_ROOT}.sku_order_list" if lines is not None else None,
        ),
        shipping_fee=shipping,
        discount=discount,
        paid_total=paid,
    )


def _paid_at(
    detail: Mapping[str, Any], errors: FieldErrors, now: datetime | None
) -> datetime | None:
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
        moment = datetime.fromtimestamp(raw, CHINA)
    except (OverflowError, OSError, ValueError):
        errors.add(f"{_ROOT}.{field}", "out of range")
        return None
    return order_time(moment, f"{_ROOT}.{field}", errors, now)
