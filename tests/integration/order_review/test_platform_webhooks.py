"""Every platform's order webhook through the real route, database and broker.

For each platform: its sample order, signed as the platform signs it, becomes an order; the
same request with one byte of the body changed is refused; a sample missing a required field
is refused naming the field by the platform's own path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.common.tables import outbox
from lvyue.common.webhooks import relaying
from lvyue.order_review.main import build_app
from lvyue.order_review.settings import OrderReviewSettings
from lvyue.order_review.tables import orders, webhook_deliveries
from tests.support.apps import serve
from tests.support.hostile import hostile_bodies, signable
from tests.support.webhooks import (
    DATA,
    douyin_headers,
    jd_request,
    lvyue_headers,
    order_sample,
    pinduoduo_request,
    shopify_headers,
    shopify_sample,
    taobao_request,
)

TAOBAO_APP_KEY = "34567890"
JD_APP_KEY = "7A3C19E05D2B4F6A8C1E2D3F4A5B6C7D"
PDD_CLIENT_ID = "3f8e0d1c2b3a4f5e6d7c8b9a0f1e2d3c"
DOUYIN_APP_ID = "7123456789012345678"

Signer = Callable[[bytes], tuple[dict[str, str], dict[str, str]]]
"""body -> (URL query parameters, headers) of a correctly signed request."""


def _secret(platform: str) -> str:
    return f"{platform}-webhook-secret"


def _headers_only(sign: Callable[[bytes], dict[str, str]]) -> Signer:
    return lambda body: ({}, sign(body))


@dataclass(frozen=True)
class Platform:
    slug: str
    sample: Callable[[], bytes]
    sign: Signer
    order: tuple[str, str, str]  # the order row's (platform, shop_id, platform_order_id)
    required: str  # a required field's path in the payload, dotted
    named: str  # the path the 422 names it under, dotted


PLATFORMS = [
    Platform(
        slug="lvyue",
        sample=lambda: (DATA / "lvyue_order.json").read_bytes(),
        sign=_headers_only(lambda body: lvyue_headers(body, _secret("lvyue"))),
        # lvyue's format relays an order of any platform: the sample is a Taobao order.
        order=("taobao", "tb-shop-001", "3914567281234567890"),
        required="receiver.address.province",
        named="receiver.address.province",
    ),
    Platform(
        slug="shopify",
        sample=shopify_sample,
        sign=_headers_only(lambda body: shopify_headers(body, _secret("shopify"))),
        order=("shopify", "lvyue-test.myshopify.com", "820982911946154508"),
        required="shipping_address.province",
        named="shipping_address.province",
    ),
    Platform(
        slug="taobao",
        sample=lambda: order_sample("taobao"),
        sign=lambda body: taobao_request(body, _secret("taobao"), TAOBAO_APP_KEY),
        order=("taobao", "绿悦家居旗舰店", "3895627318400539271"),
        required="trade.receiver_state",
        named="trade.receiver_state",
    ),
    Platform(
        slug="jd",
        sample=lambda: order_sample("jd"),
        sign=lambda body: jd_request(body, _secret("jd"), JD_APP_KEY),
        order=("jd", "10086123", "301928374650"),
        required="orderInfo.consigneeInfo.province",
        named="orderInfo.consigneeInfo.province",
    ),
    Platform(
        slug="pinduoduo",
        sample=lambda: order_sample("pinduoduo"),
        sign=lambda body: pinduoduo_request(body, _secret("pinduoduo"), PDD_CLIENT_ID),
        order=("pinduoduo", PDD_CLIENT_ID, "240618-523760187440571"),
        required="order_info.province",
        named="order_info.province",
    ),
    Platform(
        slug="douyin",
        sample=lambda: order_sample("douyin"),
        sign=_headers_only(lambda body: douyin_headers(body, _secret("douyin"), DOUYIN_APP_ID)),
        order=("douyin", "88451234", "6919283746501234567"),
        required="shop_order_detail.post_addr.province",
        named="shop_order_detail.post_addr.province.name",  # 抖店 names regions {name, id}
    ),
]

WEBHOOK_SECRETS = {
    "lvyue": relaying(_secret("lvyue"), ["taobao"]),  # the lvyue sample is a Taobao order
    "shopify": {"*": _secret("shopify")},
    "taobao": {TAOBAO_APP_KEY: _secret("taobao")},
    "jd": {JD_APP_KEY: _secret("jd")},
    "pinduoduo": {PDD_CLIENT_ID: _secret("pinduoduo")},
    "douyin": {DOUYIN_APP_ID: _secret("douyin")},
}

each_platform = pytest.mark.parametrize("platform", PLATFORMS, ids=[p.slug for p in PLATFORMS])


def _without(body: bytes, path: str) -> bytes:
    data: dict[str, Any] = json.loads(body)
    *parents, field = path.split(".")
    node = data
    for name in parents:
        node = node[name]
    del node[field]
    return json.dumps(data, ensure_ascii=False).encode()


def _tampered(body: bytes) -> bytes:
    """The body with its first digit changed: still JSON, one byte off what was signed."""
    at = re.search(rb"\d", body)
    assert at is not None
    digit = at.group()[0]
    return body[: at.start()] + bytes([ord("0") + (digit - ord("0") + 1) % 10]) + body[at.end() :]


async def _post(
    settings: OrderReviewSettings, platform: Platform, signed: bytes, sent: bytes | None = None
) -> tuple[int, Any]:
    """Posts sent (default: signed) with the signature of signed; (status, JSON answer)."""
    query, headers = platform.sign(signed)
    async with serve(build_app(settings)) as client:
        response = await client.post(
            f"/webhooks/{platform.slug}/orders",
            params=query,
            content=signed if sent is None else sent,
            headers=headers,
        )
    return response.status_code, response.json()


async def _order_rows(engine: AsyncEngine) -> list[tuple[str, str, str]]:
    columns = (orders.c.platform, orders.c.shop_id, orders.c.platform_order_id)
    async with engine.connect() as conn:
        return [(a, b, c) for a, b, c in (await conn.execute(select(*columns))).all()]


@each_platform
async def test_signed_sample_becomes_an_order(
    make_settings: Callable[..., OrderReviewSettings], engine: AsyncEngine, platform: Platform
) -> None:
    settings = make_settings(webhook_secrets=WEBHOOK_SECRETS)
    status, answer = await _post(settings, platform, platform.sample())
    assert status == 201, answer
    assert answer["duplicate"] is False
    assert await _order_rows(engine) == [platform.order]
    async with engine.connect() as conn:
        deliveries = (await conn.execute(select(webhook_deliveries.c.platform))).scalars().all()
    assert deliveries == [platform.slug]


@each_platform
async def test_body_changed_after_signing_is_refused(
    make_settings: Callable[..., OrderReviewSettings], engine: AsyncEngine, platform: Platform
) -> None:
    settings = make_settings(webhook_secrets=WEBHOOK_SECRETS)
    body = platform.sample()
    status, answer = await _post(settings, platform, body, sent=_tampered(body))
    assert status == 401, answer
    assert answer["detail"] == "signature mismatch"
    assert await _order_rows(engine) == []


@each_platform
async def test_missing_required_field_is_refused_by_its_platform_path(
    make_settings: Callable[..., OrderReviewSettings], engine: AsyncEngine, platform: Platform
) -> None:
    settings = make_settings(webhook_secrets=WEBHOOK_SECRETS)
    status, answer = await _post(settings, platform, _without(platform.sample(), platform.required))
    assert status == 422, answer
    assert platform.named.split(".") in [error["loc"] for error in answer["errors"]]
    assert answer["type"] == "urn:lvyue:problem:invalid-request"
    assert await _order_rows(engine) == []


@each_platform
async def test_hostile_bodies_are_refused_with_their_4xx_and_store_nothing(
    make_settings: Callable[..., OrderReviewSettings], engine: AsyncEngine, platform: Platform
) -> None:
    """Every class of hostile body (tests/support/hostile.py), each signed correctly: the
    limits hold whatever the signature says, and nothing reaches the database or the outbox."""
    settings = make_settings(webhook_secrets=WEBHOOK_SECRETS)
    answers = {}
    async with serve(build_app(settings)) as client:
        for case in hostile_bodies(platform.sample()):
            query, headers = platform.sign(signable(case.body))
            response = await client.post(
                f"/webhooks/{platform.slug}/orders",
                params=query,
                content=case.body,
                headers={**headers, "Content-Type": case.content_type, **dict(case.headers)},
            )
            answers[case.name] = (response.status_code, response.text)
    for case in hostile_bodies(platform.sample()):
        status, text = answers[case.name]
        assert status == case.status, (case.name, text)
        assert case.says in text, (case.name, text)
    assert await _order_rows(engine) == []
    async with engine.connect() as conn:
        for table in (webhook_deliveries, outbox):
            stored = await conn.execute(select(func.count()).select_from(table))
            assert stored.scalar_one() == 0, table.name


TAOBAO = next(p for p in PLATFORMS if p.slug == "taobao")
LVYUE = next(p for p in PLATFORMS if p.slug == "lvyue")


def _taobao_order_in_lvyue_format() -> bytes:
    """The Taobao sample's very order, as an integrator would relay it in the lvyue format."""
    data: dict[str, Any] = json.loads(LVYUE.sample())
    data["platform"], data["shop_id"], data["platform_order_id"] = TAOBAO.order
    return json.dumps(data, ensure_ascii=False).encode()


async def test_a_lvyue_secret_cannot_take_over_another_platforms_order(
    make_settings: Callable[..., OrderReviewSettings], engine: AsyncEngine
) -> None:
    """The lvyue secret is configured for lvyue's own shops only: a Taobao order relayed with
    it is refused, and Taobao's own delivery of that order later becomes the order."""
    secrets = {**WEBHOOK_SECRETS, "lvyue": {"*": _secret("lvyue")}}
    settings = make_settings(webhook_secrets=secrets)
    status, answer = await _post(settings, LVYUE, _taobao_order_in_lvyue_format())
    assert status == 401, answer
    assert 'lvyue["taobao/绿悦家居旗舰店"]' in answer["detail"]
    assert await _order_rows(engine) == []
    status, answer = await _post(settings, TAOBAO, TAOBAO.sample())
    assert status == 201, answer
    assert answer["duplicate"] is False
    assert await _order_rows(engine) == [TAOBAO.order]


@pytest.mark.parametrize("key", ["taobao/绿悦家居旗舰店", "taobao/*"])
async def test_a_lvyue_secret_configured_for_the_shop_relays_its_orders(
    make_settings: Callable[..., OrderReviewSettings], engine: AsyncEngine, key: str
) -> None:
    secrets = {**WEBHOOK_SECRETS, "lvyue": {key: _secret("lvyue")}}
    settings = make_settings(webhook_secrets=secrets)
    status, answer = await _post(settings, LVYUE, _taobao_order_in_lvyue_format())
    assert status == 201, answer
    assert await _order_rows(engine) == [TAOBAO.order]
    jd_order = json.loads(_taobao_order_in_lvyue_format())
    jd_order["platform"] = "jd"  # configured for Taobao, not for JD
    status, answer = await _post(settings, LVYUE, json.dumps(jd_order).encode())
    assert status == 401, answer
    assert await _order_rows(engine) == [TAOBAO.order]
