"""Each platform's after-sale push through POST /webhooks/{platform}/aftersales, the real
database and broker: a signed push for a shipped order opens a case; a changed body is refused
with 401; a push for an order aftersales never heard of answers 404."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.aftersales.settings import AftersalesSettings
from lvyue.aftersales.tables import cases, webhook_deliveries
from lvyue.common.clock import ManualClock
from tests.conftest import WEBHOOK_SECRET
from tests.support.aftersales import (
    PLATFORM_SECRETS,
    Aftersales,
    aftersale_sample,
    money,
    order,
    platform_request,
    running,
    webhook_body,
    with_order_id,
)
from tests.support.hostile import hostile_bodies, signable
from tests.support.webhooks import lvyue_headers

PLATFORMS = ("taobao", "jd", "pinduoduo", "douyin")
EXPECTED = {  # type, reason, sku, amount of the samples
    "taobao": ("return_and_refund", "quality", "TEA-LJ-250G", "168.00"),
    "jd": ("return_and_refund", "damaged_in_transit", "CUP-GLASS-01", "39.90"),
    "pinduoduo": ("return_and_refund", "wrong_item", "TEA-LJ-250G", "168.00"),
    "douyin": ("refund_only", "changed_mind", "CUP-GLASS-01", "39.90"),
}


@pytest.fixture
async def platforms_app(
    make_aftersales_settings: Callable[..., AftersalesSettings],
) -> AsyncIterator[Aftersales]:
    settings = make_aftersales_settings(webhook_secrets=PLATFORM_SECRETS)
    async with running(settings, ManualClock(datetime.now(UTC))) as app:
        yield app


def fresh_id() -> str:
    return str(uuid.uuid4().int)[:19]


def push_body(platform: str, platform_order_id: str) -> bytes:
    body = with_order_id(
        platform, aftersale_sample(platform), platform_order_id, uuid.uuid4().int % 10**12
    )
    return json.dumps(body, ensure_ascii=False).encode()


async def post(
    app: Aftersales, platform: str, body: bytes, *, signed: bytes | None = None
) -> httpx.Response:
    query, headers = platform_request(platform, signed or body, at=app.clock.now())
    return await app.client.post(
        f"/webhooks/{platform}/aftersales", params=query, content=body, headers=headers
    )


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_signed_push_opens_a_case(platforms_app: Aftersales, platform: str) -> None:
    placed = order(platform=platform).model_copy(update={"platform_order_id": fresh_id()})
    order_id, _ = await platforms_app.shipped_order(placed)
    body = push_body(platform, placed.platform_order_id)

    accepted = await post(platforms_app, platform, body)
    again = await post(platforms_app, platform, body)

    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["order_id"] == str(order_id)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    case = await platforms_app.case(accepted.json()["aftersale_id"])
    case_type, reason, sku, amount = EXPECTED[platform]
    assert (case["type"], case["reason"], case["state"]) == (case_type, reason, "requested")
    assert [line["sku"] for line in case["lines"]] == [sku]
    assert money(case["requested_amount"]) == money(amount)
    assert case["description"]  # the platform's own text, kept


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_tampered_push_is_refused(platforms_app: Aftersales, platform: str) -> None:
    placed = order(platform=platform).model_copy(update={"platform_order_id": fresh_id()})
    await platforms_app.shipped_order(placed)
    body = push_body(platform, placed.platform_order_id)
    tampered = body.replace(b"1", b"2", 1)

    refused = await post(platforms_app, platform, tampered, signed=body)

    assert refused.status_code == 401, refused.text
    assert "signature mismatch" in refused.json()["detail"]


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_push_for_an_unknown_order_is_404(platforms_app: Aftersales, platform: str) -> None:
    refused = await post(platforms_app, platform, push_body(platform, fresh_id()))

    assert refused.status_code == 404, refused.text
    assert "not found" in refused.json()["detail"]


async def test_unknown_platform_is_404(platforms_app: Aftersales) -> None:
    response = await platforms_app.client.post(
        "/webhooks/shopify/aftersales", content=b"{}", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 404
    assert "taobao" in response.json()["detail"]


async def test_canonical_webhook_keeps_working(platforms_app: Aftersales) -> None:
    _, placed = await platforms_app.shipped_order()
    intake = await platforms_app.webhook(webhook_body(placed, "refund_only"))
    assert intake.status_code == 201, intake.text


@pytest.mark.parametrize("platform", ["lvyue", *PLATFORMS])
async def test_hostile_pushes_are_refused_with_their_4xx_and_store_nothing(
    platforms_app: Aftersales, aftersales_engine: AsyncEngine, platform: str
) -> None:
    """Every class of hostile body (tests/support/hostile.py), signed as the platform signs:
    the limits hold whatever the signature says, and no case or delivery is stored."""
    if platform == "lvyue":
        _, placed = await platforms_app.shipped_order()
        good = json.dumps(webhook_body(placed, "refund_only")).encode()
    else:
        good = push_body(platform, fresh_id())
    for case in hostile_bodies(good):
        if platform == "lvyue":
            stamp = int(platforms_app.clock.now().timestamp())
            query: dict[str, str] = {}
            headers = lvyue_headers(signable(case.body), WEBHOOK_SECRET, timestamp=stamp)
        else:
            query, headers = platform_request(
                platform, signable(case.body), at=platforms_app.clock.now()
            )
        response = await platforms_app.client.post(
            f"/webhooks/{platform}/aftersales",
            params=query,
            content=case.body,
            headers={**headers, "Content-Type": case.content_type, **dict(case.headers)},
        )
        assert response.status_code == case.status, (case.name, response.text)
        assert case.says in response.text, (case.name, response.text)
    async with aftersales_engine.connect() as conn:
        for table in (cases, webhook_deliveries):
            stored = await conn.execute(select(func.count()).select_from(table))
            assert stored.scalar_one() == 0, table.name


async def test_a_lvyue_secret_opens_no_case_on_another_platforms_order(
    make_aftersales_settings: Callable[..., AftersalesSettings],
) -> None:
    """Configured for lvyue's own shops only, the secret cannot open a case on a Taobao order."""
    secrets = {**PLATFORM_SECRETS, "lvyue": {"*": WEBHOOK_SECRET}}
    settings = make_aftersales_settings(webhook_secrets=secrets)
    async with running(settings, ManualClock(datetime.now(UTC))) as app:
        _, placed = await app.shipped_order()
        assert placed.platform == "taobao"
        refused = await app.webhook(webhook_body(placed, "refund_only"))
    assert refused.status_code == 401, refused.text
    assert '"taobao/*"' in refused.text.replace('\\"', '"')
