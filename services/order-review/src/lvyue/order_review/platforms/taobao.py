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
TOP's own limit for API calls). The webhook route hands adapters the URL query parameters and
the headers as one mapping (a header wins on a clash), so TOP's URL parameters (app_key,
timestamp, sign, sign_method, method, v, format, customerId, ...) are read from there by name.
The secret is the app's: it is looked up as ("taobao", app_key). CanonicalOrder.shop_id is
the trade's seller_nick (the shop).

Receiver data: since OAID, TOP returns receiver_name/receiver_mobile/receiver_address masked
("张**", "138****5678"); they are mapped as given and review flags an unusable phone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from lvyue.common.contracts.order import Address, CanonicalOrder, Receiver
from lvyue.common.platform_signing.pushes import TopPush
from lvyue.common.webhooks.fields import digits_id, text

from ._fields import (
    build,
    build_receiver,
    canonical_order,
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
_ROOT = "trade"
# The trade's fields of what the contract may still refuse once the parts are mapped.
_PATHS = {
    "shop_id": f"{_ROOT}.seller_nick",
    "platform_order_id": f"{_ROOT}.tid",
    "buyer_id": f"{_ROOT}.buyer_open_uid",
    "buyer_nick": f"{_ROOT}.buyer_nick",
}


class TaobaoAdapter(TopPush):
    """Adapter for TOP trades (Taobao and Tmall), pushed as taobao.trade.fullinfo.get's trade."""

    def delivery_id(self, headers: Mapping[str, str], payload: Mapping[str, Any]) -> str | None:
        return None  # TOP sends no delivery id; the route falls back to the body's hash

    def shop_id(self, headers: Mapping[str, str], payload: Mapping[str, Any]) -> str:
        shop = text(section(payload, _ROOT).get("seller_nick"))
        if shop is None:
            raise PayloadError([(f"{_ROOT}.seller_nick", "required: the seller's shop nick")])
        return shop

    def to_canonical(
        self,
        headers: Mapping[str, str],
        payload: Mapping[str, Any],
        *,
        now: datetime | None = None,
    ) -> CanonicalOrder:
        trade = required_section(payload, _ROOT, "required: the trade object of trade.fullinfo.get")
        errors = FieldErrors()
        shop = require(text(trade.get("seller_nick")), f"{_ROOT}.seller_nick", errors)
        order_id = _order_id(trade, errors)
        receiver = _receiver(trade, errors)
        lines = yuan_lines(
            _order_list(trade),
            f"{_ROOT}.orders.order",
            "order",
            errors,
            codes=("outer_sku_id", "outer_iid"),
            sku_id="sku_id",
            name="title",
            quantity="num",
            unit_price="price",
        )
        amounts = yuan_amounts(
            trade,
            _ROOT,
            errors,
            goods_total="total_fee",
            shipping_fee="post_fee",
            discount="discount_fee",
            paid_total="payment",
        )
        # An unpaid trade has no pay_time yet: its creation time stands in (paid=False says so).
        paid_at = first_china_time(trade, _ROOT, errors, "pay_time", "created", now=now)
        parts = order_parts(errors, shop, order_id, receiver, lines, amounts, paid_at)
        trade_from = {part.strip() for part in str(trade.get("trade_from") or "").split(",")}
        return canonical_order(
            errors,
            parts,
            now,
            paths=_PATHS,
            platform=self.name,
            buyer_id=short(trade.get("buyer_open_uid")),
            buyer_nick=text(trade.get("buyer_nick")),
            paid=one_of(trade.get("status"), PAID_STATUSES),
            urgent=str(trade.get("shipping_type") or "") == NEXT_DAY_SHIPPING,
            promotion=JUHUASUAN in trade_from,
            remarks=remarks(buyer=trade.get("buyer_message"), seller=trade.get("seller_memo")),
        )


def _order_id(trade: Mapping[str, Any], errors: FieldErrors) -> str | None:
    order_id = digits_id(trade.get("tid_str")) or digits_id(trade.get("tid"))
    if order_id is None:
        if isinstance(trade.get("tid"), float):
            errors.add(f"{_ROOT}.tid", "a float may have rounded the id; send tid_str")
        else:
            errors.add(f"{_ROOT}.tid", "required: the trade id")
    return order_id


def _receiver(trade: Mapping[str, Any], errors: FieldErrors) -> Receiver | None:
    province = text(trade.get("receiver_state"))
    city = text(trade.get("receiver_city"))
    district = text(trade.get("receiver_district"))
    if city is None and district is not None:
        # TOP keeps 省直辖县级行政区 (e.g. 济源) in receiver_district: it is the city then.
        city, district = district, None
    town = text(trade.get("receiver_town")) or ""
    street = text(trade.get("receiver_address"))
    if street is not None and town and not street.startswith(town):
        street = town + street
    address = build(
        errors,
        Address,
        province=(province, f"{_ROOT}.receiver_state"),
        city=(city, f"{_ROOT}.receiver_city"),
        district=(district, f"{_ROOT}.receiver_district"),
        street=(street, f"{_ROOT}.receiver_address"),
        postal_code=(trade.get("receiver_zip"), f"{_ROOT}.receiver_zip"),
    )
    phone = text(trade.get("receiver_mobile")) or text(trade.get("receiver_phone"))
    return build_receiver(
        errors,
        name=(text(trade.get("receiver_name")), f"{_ROOT}.receiver_name"),
        phone=(phone, f"{_ROOT}.receiver_mobile"),
        address=address,
    )


def _order_list(trade: Mapping[str, Any]) -> Any:
    """TOP's JSON wraps lists: "orders": {"order": [...]}; a plain list is accepted too."""
    orders = trade.get("orders")
    return orders.get("order") if isinstance(orders, Mapping) else orders
