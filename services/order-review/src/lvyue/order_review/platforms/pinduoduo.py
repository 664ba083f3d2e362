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
platform's own limit for API calls). The route hands adapters the URL query parameters and
the headers as one mapping, so those parameters are read from there by name. The secret is the
app's: it is looked up as ("pinduoduo", client_id). order_info carries no mall id, so
CanonicalOrder.shop_id is the client_id too: one app per mall (a merchant's own app), as this
adapter assumes.

Receiver data: receiver_name/receiver_phone/receiver_address are plain only while the order
awaits shipment, otherwise masked ("1387677****"); after 密文改造 they are ciphertext with
*_mask twins. The plain field is used when present, else the *_mask one, as given; review
flags an unusable phone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from lvyue.common import platform_signing
from lvyue.common.contracts.order import Address, CanonicalOrder, Receiver
from lvyue.common.platform_signing.pushes import PddPush
from lvyue.common.webhooks.fields import text

from ._fields import (
    MAX_NAME,
    MAX_PHONE,
    MAX_STREET,
    build,
    build_receiver,
    canonical_order,
    first_china_time,
    order_parts,
    remarks,
    require,
    required_section,
    yuan_amounts,
    yuan_lines,
)
from .base import FieldErrors, PayloadError, normalize_headers

CLIENT_ID = platform_signing.PDD_CLIENT_ID
CONFIRMED = 1  # confirm_status 1: 已成交 (paid and, for a group buy, the group is complete)
_ROOT = "order_info"


class PinduoduoAdapter(PddPush):
    """Adapter for Pinduoduo orders, pushed as pdd.order.information.get's order_info."""

    def delivery_id(self, headers: Mapping[str, str], payload: Mapping[str, Any]) -> str | None:
        return None  # no delivery id is sent; the route falls back to the body's hash

    def shop_id(self, headers: Mapping[str, str], payload: Mapping[str, Any]) -> str:
        client_id = normalize_headers(headers).get(CLIENT_ID)
        if not client_id:
            raise PayloadError([(CLIENT_ID, "parameter missing")])
        return client_id

    def to_canonical(
        self,
        headers: Mapping[str, str],
        payload: Mapping[str, Any],
        *,
        now: datetime | None = None,
    ) -> CanonicalOrder:
        shop = self.shop_id(headers, payload)
        order = required_section(
            payload, _ROOT, "required: the order_info object of the order detail"
        )
        errors = FieldErrors()
        order_id = require(
            text(order.get("order_sn")), f"{_ROOT}.order_sn", errors, "required: the order number"
        )
        receiver = _receiver(order, errors)
        lines = yuan_lines(
            order.get("item_list"),
            f"{_ROOT}.item_list",
            "item",
            errors,
            codes=("outer_id",),
            sku_id="sku_id",
            name="goods_name",
            quantity="goods_count",
            unit_price="goods_price",
        )
        amounts = yuan_amounts(
            order,
            _ROOT,
            errors,
            goods_total="goods_amount",
            shipping_fee="postage",
            discount="discount_amount",
            paid_total="pay_amount",
        )
        # An unpaid order has no pay_time yet: its creation time stands in (paid=False says so).
        paid_at = first_china_time(order, _ROOT, errors, "pay_time", "created_time", now=now)
        confirm_status = order.get("confirm_status")
        parts = order_parts(errors, shop, order_id, receiver, lines, amounts, paid_at)
        return canonical_order(
            errors,
            parts,
            now,
            paths={"shop_id": CLIENT_ID, "platform_order_id": f"{_ROOT}.order_sn"},
            platform=self.name,
            # 未成交 (0) is a group buy still forming or unpaid: not shippable yet.
            paid=confirm_status == CONFIRMED
            if confirm_status is not None
            else bool(order.get("pay_time")),
            # The order detail documents no urgent or promotion flag.
            remarks=remarks(buyer=order.get("buyer_memo"), seller=order.get("remark")),
        )


def _receiver_text(order: Mapping[str, Any], field: str, limit: int) -> str | None:
    """The plain value, else the *_mask one, else the ciphertext cut to the contract's limit.

    After 密文改造 the plain field holds a ciphertext ("~...~"): the mask is more use to people.
    A cut ciphertext is as unusable as a whole one (review flags the phone), but the paid order
    is still taken in; the stored raw body keeps it whole.
    """
    value = text(order.get(field))
    usable = value is not None and not value.startswith("~") and len(value) <= limit
    return (
        (value if usable else None)
        or text(order.get(f"{field}_mask"))
        or (value[:limit] if value else None)
    )


def _receiver(order: Mapping[str, Any], errors: FieldErrors) -> Receiver | None:
    # receiver_address is the street line alone; address repeats province, city and town.
    street = _receiver_text(order, "receiver_address", MAX_STREET) or text(order.get("address"))
    address = build(
        errors,
        Address,
        province=(text(order.get("province")), f"{_ROOT}.province"),
        city=(text(order.get("city")), f"{_ROOT}.city"),
        district=(text(order.get("town")), f"{_ROOT}.town"),  # Pinduoduo's town is the 区县
        street=(street, f"{_ROOT}.receiver_address"),
    )
    return build_receiver(
        errors,
        name=(_receiver_text(order, "receiver_name", MAX_NAME), f"{_ROOT}.receiver_name"),
        phone=(_receiver_text(order, "receiver_phone", MAX_PHONE), f"{_ROOT}.receiver_phone"),
        address=address,
    )
