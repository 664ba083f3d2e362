"""Hostile values in an order webhook's fields and headers, each signed as the platform signs
it, through the real route, database and broker: out-of-range order times, unbounded delivery
ids, shop domains and order ids, amounts that overflow Decimal, invisible and look-alike
characters. Each is refused with a 4xx naming the field by the platform's own path (or the
header), and nothing is stored; before, several were 500s and the others were stored.

The classes of hostile body every webhook refuses whatever its platform (size, nesting,
encodings) are in tests/support/hostile.py; this is the table of hostile *values*."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.common.tables import outbox
from lvyue.order_review.main import build_app
from lvyue.order_review.settings import OrderReviewSettings
from lvyue.order_review.tables import order_notifications, orders, webhook_deliveries
from tests.integration.order_review.test_platform_webhooks import (
    PLATFORMS,
    WEBHOOK_SECRETS,
    Platform,
    _secret,
)
from tests.support.apps import serve
from tests.support.hostile import raw_headers
from tests.support.webhooks import shopify_headers, shopify_sample

Change = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class HostileField:
    name: str
    change: Change  # applied to the platform's sample order
    says: str  # the field's platform path (or the header) the refusal must name
    status: int = 422
    headers: dict[str, str | bytes] = field(default_factory=dict)  # sent besides the signature


def _set(path: str, value: Any) -> Change:
    """Sets a dotted path of the sample ("lines.0.sku": a list index is a number)."""

    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for name in parents:
            node = node[int(name)] if isinstance(node, list) else node[name]
        node[int(last) if isinstance(node, list) else last] = value

    return change


def _all(*changes: Change) -> Change:
    def change(data: dict[str, Any]) -> None:
        for each in changes:
            each(data)

    return change


def _drop(path: str) -> Change:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for name in parents:
            node = node[name]
        node.pop(last, None)

    return change


LONG = "x" * 6000
ESC_RLO = "\u001b[2J\u202e李娜"  # an escape sequence and RIGHT-TO-LEFT OVERRIDE
ZWSP_PHONE = "138\u200b0013\u200b8000"
FULL_WIDTH_PHONE = "１３８００１３８０００"
ARABIC_INDIC = "١٦٨.٠٠"
OVERFLOW = "9e999999"

HOSTILE: dict[str, list[HostileField]] = {
    "lvyue": [
        HostileField("paid in year 9999", _set("paid_at", "9999-12-31T20:00:00+00:00"), "paid_at"),
        HostileField("paid in year 1, +14:00", _set("paid_at", "0001-01-01T00:00:00+14:00"),
                     "paid_at"),
        HostileField("paid in 1900", _set("paid_at", "1900-01-01T00:00:00+08:00"), "paid_at"),
        HostileField("paid in 2999", _set("paid_at", "2999-01-01T00:00:00+08:00"), "paid_at"),
        HostileField("delivery id of 6000 characters", lambda _: None, "X-Lvyue-Delivery",
                     headers={"X-Lvyue-Delivery": LONG}),
        HostileField("delivery id in raw UTF-8 bytes", lambda _: None, "X-Lvyue-Delivery",
                     headers={"X-Lvyue-Delivery": "小".encode()}),
        HostileField("phone with zero-width spaces", _set("receiver.phone", ZWSP_PHONE),
                     "receiver.phone"),
        HostileField("phone in full-width digits", _set("receiver.phone", FULL_WIDTH_PHONE),
                     "receiver.phone"),
        HostileField("name with ESC and RLO", _set("receiver.name", ESC_RLO), "receiver.name"),
        HostileField("street with RLO", _set("receiver.address.street", "文三路\u202e478号"),
                     "receiver.address.street"),
        HostileField("SKU with TAB and LF", _set("lines.0.sku", "TEA\tLJ\n250G"), "lines.0.sku"),
        HostileField("price in Arabic-Indic digits", _set("lines.0.unit_price", ARABIC_INDIC),
                     "lines.0.unit_price"),
        HostileField("price -0", _set("lines.0.unit_price", "-0"), "lines.0.unit_price"),
        HostileField("price 1_000", _set("amounts.paid_total", "1_000"), "amounts.paid_total"),
        HostileField("quantity true", _set("lines.0.quantity", True), "lines.0.quantity"),
        HostileField("quantity 5_0", _set("lines.0.quantity", "5_0"), "lines.0.quantity"),
        HostileField("remark with ESC", _set("remarks", "送人\u001b[31m用"), "remarks"),
    ],
    "shopify": [
        HostileField("processed in year 9999", _set("processed_at", "9999-12-31T20:00:00+00:00"),
                     "processed_at"),
        HostileField("webhook id of 6000 characters", lambda _: None, "X-Shopify-Webhook-Id",
                     headers={"X-Shopify-Webhook-Id": LONG}),
        HostileField("shop domain of 6000 characters", lambda _: None, "X-Shopify-Shop-Domain",
                     status=401, headers={"X-Shopify-Shop-Domain": LONG}),
        HostileField("subtotal and discounts overflowing",
                     _all(_drop("total_line_items_price"), _set("subtotal_price", OVERFLOW),
                          _set("total_discounts", OVERFLOW)),
                     "subtotal_price"),
        HostileField("shipping line prices overflowing",
                     _all(_drop("total_shipping_price_set"),
                          _set("shipping_lines", [{"price": OVERFLOW}, {"price": OVERFLOW}])),
                     "shipping_lines[0].price"),
        HostileField("phone in full-width digits",
                     _set("shipping_address.phone", FULL_WIDTH_PHONE), "shipping_address.phone"),
        HostileField("quantity true", _set("line_items.0.quantity", True),
                     "line_items[0].quantity"),
        HostileField("price in Arabic-Indic digits", _set("line_items.0.price", ARABIC_INDIC),
                     "line_items[0].price"),
    ],
    "taobao": [
        HostileField("paid in year 9999", _set("trade.pay_time", "9999-12-31 23:59:59"),
                     "trade.pay_time"),
        HostileField("paid in 1900", _set("trade.pay_time", "1900-01-01 00:00:00"),
                     "trade.pay_time"),
        HostileField("receiver name with ESC and RLO", _set("trade.receiver_name", ESC_RLO),
                     "trade.receiver_name"),
        HostileField("quantity 5_0", _set("trade.orders.order.0.num", "5_0"),
                     "trade.orders.order[0].num"),
        HostileField("buyer nick with RLO", _set("trade.buyer_nick", "小李\u202e物购"),
                     "trade.buyer_nick"),
        HostileField("shop nick of 200 characters", _set("trade.seller_nick", "店" * 200),
                     "trade.seller_nick"),
    ],
    "jd": [
        HostileField("paid in year 9999",
                     _set("orderInfo.paymentConfirmTime", "9999-12-31 23:59:59"),
                     "orderInfo.paymentConfirmTime"),
        HostileField("placed in year 1 (its placeholder too)",
                     _all(_set("orderInfo.paymentConfirmTime", "0001-01-01 00:00:00"),
                          _set("orderInfo.orderStartTime", "0001-01-01 00:00:00")),
                     "orderInfo.orderStartTime"),
        HostileField("quantity of 5000 digits", _set("orderInfo.itemInfoList.0.itemTotal",
                                                     "9" * 5000),
                     "orderInfo.itemInfoList[0].itemTotal"),
    ],
    "pinduoduo": [
        HostileField("paid in year 9999", _set("order_info.pay_time", "9999-12-31 23:59:59"),
                     "order_info.pay_time"),
        HostileField("order number of 200 characters", _set("order_info.order_sn", "8" * 200),
                     "order_info.order_sn"),
    ],
    "douyin": [
        HostileField("paid in year 9999", _set("shop_order_detail.pay_time", 253402214400),
                     "shop_order_detail.pay_time"),
        HostileField("paid in 1970", _set("shop_order_detail.pay_time", 1),
                     "shop_order_detail.pay_time"),
        HostileField("shop id of 100 digits", _set("shop_order_detail.shop_id", "8" * 100),
                     "shop_order_detail.shop_id"),
    ],
}  # fmt: skip


def _body(platform: Platform, change: Change) -> bytes:
    data: dict[str, Any] = json.loads(platform.sample())
    change(data)
    return json.dumps(data, ensure_ascii=False).encode()


async def _stored(engine: AsyncEngine) -> dict[str, int]:
    counts = {}
    async with engine.connect() as conn:
        for table in (orders, webhook_deliveries, order_notifications, outbox):
            found = await conn.execute(select(func.count()).select_from(table))
            counts[table.name] = found.scalar_one()
    return counts


NOTHING = {"orders": 0, "webhook_deliveries": 0, "order_notifications": 0, "outbox": 0}


@pytest.mark.parametrize("platform", PLATFORMS, ids=[p.slug for p in PLATFORMS])
async def test_hostile_fields_are_refused_naming_the_field_and_store_nothing(
    make_settings: Callable[..., OrderReviewSettings], engine: AsyncEngine, platform: Platform
) -> None:
    settings = make_settings(webhook_secrets=WEBHOOK_SECRETS)
    answers = {}
    async with serve(build_app(settings)) as client:
        for case in HOSTILE[platform.slug]:
            body = _body(platform, case.change)
            query, headers = platform.sign(body)
            response = await client.post(
                f"/webhooks/{platform.slug}/orders",
                params=query,
                content=body,
                headers=raw_headers({**headers, **case.headers}),
            )
            answers[case.name] = (response.status_code, response.text)
    for case in HOSTILE[platform.slug]:
        status, text = answers[case.name]
        assert (status, case.says in text) == (case.status, True), (case.name, text[:400])
    assert await _stored(engine) == NOTHING


def _cancelled(**changes: Any) -> bytes:
    data: dict[str, Any] = json.loads(shopify_sample())
    data.update(changes)
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("body", "headers", "status", "says"),
    [
        pytest.param(_cancelled(id="7" * 20000), {}, 422, "the order's id", id="id-20000-digits"),
        pytest.param(_cancelled(id="7" * 65), {}, 422, "the order's id", id="id-65-digits"),
        pytest.param(_cancelled(), {"X-Shopify-Webhook-Id": "é".encode("latin-1")}, 422,
                     "X-Shopify-Webhook-Id", id="webhook-id-not-ascii"),
        pytest.param(_cancelled(), {"X-Shopify-Webhook-Id": "w\u0001"}, 422,
                     "X-Shopify-Webhook-Id", id="webhook-id-control"),
        pytest.param(_cancelled(), {"X-Shopify-Shop-Domain": "a" * 6000}, 401,
                     "X-Shopify-Shop-Domain", id="shop-6000-characters"),
    ],
)  # fmt: skip
async def test_a_hostile_shopify_cancellation_is_refused_naming_what_is_wrong(
    make_settings: Callable[..., OrderReviewSettings],
    engine: AsyncEngine,
    body: bytes,
    headers: dict[str, str | bytes],
    status: int,
    says: str,
) -> None:
    settings = make_settings(webhook_secrets=WEBHOOK_SECRETS)
    sent = {**shopify_headers(body, _secret("shopify")), "X-Shopify-Topic": "orders/cancelled"}
    async with serve(build_app(settings)) as client:
        response = await client.post(
            "/notifications/shopify", content=body, headers=raw_headers({**sent, **headers})
        )
    assert response.status_code == status, response.text
    assert says in response.text
    assert await _stored(engine) == NOTHING


async def test_the_longest_ids_and_fields_still_make_an_order(
    make_settings: Callable[..., OrderReviewSettings], engine: AsyncEngine
) -> None:
    """At the limits, not past them: a delivery id of 128 printable characters, a paid time a
    few hours ahead of lvyue's clock (a platform's drifting one), a remark of several lines."""
    lvyue = next(p for p in PLATFORMS if p.slug == "lvyue")
    settings = make_settings(webhook_secrets=WEBHOOK_SECRETS)
    async with serve(build_app(settings)) as client:
        ahead = (datetime.now(UTC) + timedelta(hours=20)).isoformat()
        body = _body(
            lvyue,
            _all(
                _set("paid_at", ahead),
                _set("remarks", "买家留言：送人用\n卖家备注：\t加急 👨\u200d👩\u200d👧"),
                _set("receiver.phone", "+86 138＊＊＊＊8000"),
                _set("platform_order_id", str(uuid.uuid4().int)[:20]),
            ),
        )
        _, headers = lvyue.sign(body)
        delivery = "~" + "d" * 126 + "!"  # 128 printable ASCII characters
        sent = {**headers, "X-Lvyue-Delivery": delivery}
        response = await client.post("/webhooks/lvyue/orders", content=body, headers=sent)
    assert response.status_code == 201, response.text
    async with engine.connect() as conn:
        kept = (await conn.execute(select(webhook_deliveries.c.delivery_id))).scalars().all()
    assert kept == [delivery]
