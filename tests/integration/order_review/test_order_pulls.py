"""One shop's pulls against the real PostgreSQL, the sandbox's Shopify shop answering in
process: pages through intake, the watermark moving only with the last page's commit, a
failed page resumed without a miss or a duplicate, cancelled and unreadable orders passed by."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.cli import sandbox, sandbox_jd, sandbox_shopify, sandbox_taobao
from lvyue.common import platform_answers
from lvyue.common.bootstrap import Kernel
from lvyue.common.platform_signing import china_time_text
from lvyue.common.tables import outbox
from lvyue.order_review import repository
from lvyue.order_review.domain.status import OrderStatus
from lvyue.order_review.main import build_app
from lvyue.order_review.notifications.fetch import Taking, take_notifications
from lvyue.order_review.pulls.calls import PullError
from lvyue.order_review.pulls.job import refresh_health
from lvyue.order_review.pulls.reconcile import PullTarget, pull_shop
from lvyue.order_review.review import ReviewContext
from lvyue.order_review.settings import OrderReviewSettings
from lvyue.order_review.tables import order_notifications, orders, webhook_deliveries
from tests.conftest import WEBHOOK_SECRET
from tests.support.apps import QUIET, serve
from tests.support.held_orders import held_order
from tests.support.metrics import metric

# What a pull needs: order-review's kernel, a client of the sandbox platform, the shop, the
# settings and review's context; the pull-only platforms' tests also get the platform's name.
Pulling = tuple[Kernel, httpx.AsyncClient, PullTarget, OrderReviewSettings, ReviewContext]
PullingOnly = tuple[str, Kernel, httpx.AsyncClient, PullTarget, OrderReviewSettings, ReviewContext]


@pytest.fixture
def shop() -> str:
    return f"pull-{uuid.uuid4().hex[:8]}.myshopify.com"


@pytest.fixture
async def pulling(
    make_settings: Callable[..., OrderReviewSettings], shop: str
) -> AsyncIterator[Pulling]:
    settings = make_settings(
        **QUIET,
        order_pull_shops={f"shopify/{shop}": {"base_url": f"http://sandbox/shopify/{shop}",
                                              "access_token": sandbox.ACCESS_TOKEN}},
        order_pull_page_size=50,
    )  # fmt: skip
    app = build_app(settings)
    transport = httpx.ASGITransport(app=sandbox.app())
    async with serve(app), httpx.AsyncClient(transport=transport) as client:
        (target,) = PullTarget.all(settings)
        yield app.state.kernel, client, target, settings, app.state.review
    sandbox_shopify.STORE.faults = sandbox_shopify.Faults()


def _put(shop: str, count: int, *, seed: int, **changes: object) -> list[str]:
    """Orders in the sandbox's shop no webhook announced."""
    rng = random.Random(seed)
    made = []
    for _ in range(count):
        order = sandbox_shopify.new_order(rng, ["TEA-LJ-250G"], datetime.now(UTC)) | changes
        sandbox_shopify.STORE.orders[order["id"]] = order | {"shop": shop}
        made.append(str(order["id"]))
    return made


async def _accepted(engine: AsyncEngine, shop: str) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(orders.c.platform_order_id).where(orders.c.shop_id == shop)
        )
    return sorted(r[0] for r in rows)


async def test_a_pull_takes_every_page_through_intake_and_then_moves_the_watermark(
    pulling: Pulling,
    engine: AsyncEngine,
    shop: str,
) -> None:
    kernel, client, target, settings, review = pulling
    made = _put(shop, 120, seed=1)
    started = datetime.now(UTC)
    tally = await pull_shop(kernel, client, target, settings, review)
    assert (tally.pulled, tally.reconciled, tally.invalid) == (120, 120, 0)
    assert await _accepted(engine, shop) == sorted(made)
    async with kernel.uow() as uow:
        state = await repository.pull_state(uow.session, "shopify", shop)
    assert state is not None
    assert state.watermark >= started
    assert (state.pulled, state.reconciled, state.last_error) == (120, 120, None)

    # the overlap reads them again
    again = await pull_shop(kernel, client, target, settings, review)
    assert (again.pulled, again.reconciled) == (120, 0)
    assert await _accepted(engine, shop) == sorted(made)


async def test_a_pull_failing_on_a_page_leaves_the_watermark_and_the_next_one_resumes(
    pulling: Pulling,
    engine: AsyncEngine,
    shop: str,
) -> None:
    kernel, client, target, settings, review = pulling
    made = _put(shop, 120, seed=2)
    sandbox_shopify.STORE.faults = sandbox_shopify.Faults(fail_pages=3, from_offset=50)
    with pytest.raises(PullError):
        await pull_shop(kernel, client, target, settings, review)
    async with kernel.uow() as uow:
        failed = await repository.pull_state(uow.session, "shopify", shop)
    assert failed is not None
    assert failed.last_error is not None
    assert failed.failing_since is not None
    lookback = timedelta(seconds=settings.order_pull_lookback_s)
    assert failed.watermark < datetime.now(UTC) - lookback + timedelta(minutes=1)  # unmoved
    assert len(await _accepted(engine, shop)) == 50  # the first page, committed

    tally = await pull_shop(kernel, client, target, settings, review)
    assert (tally.pulled, tally.reconciled) == (120, 70)
    assert await _accepted(engine, shop) == sorted(made)
    async with kernel.uow() as uow:
        resumed = await repository.pull_state(uow.session, "shopify", shop)
    assert resumed is not None
    assert (resumed.reconciled, resumed.failing_since, resumed.last_error) == (120, None, None)
    assert resumed.watermark > failed.watermark


async def test_cancelled_and_unreadable_orders_are_passed_by(
    pulling: Pulling,
    engine: AsyncEngine,
    shop: str,
) -> None:
    kernel, client, target, settings, review = pulling
    good = _put(shop, 3, seed=3)
    _put(shop, 2, seed=4, cancelled_at="2026-12-05T10:00:00+08:00")
    _put(shop, 1, seed=5, shipping_address=None)
    tally = await pull_shop(kernel, client, target, settings, review)
    assert (tally.pulled, tally.reconciled, tally.invalid) == (6, 3, 1)
    assert await _accepted(engine, shop) == sorted(good)


async def test_a_page_beyond_the_answer_limit_fails_the_pull_and_leaves_the_watermark(
    pulling: Pulling,
    engine: AsyncEngine,
    shop: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kernel, client, target, settings, review = pulling
    made = _put(shop, 60, seed=7)
    monkeypatch.setattr(platform_answers, "MAX_ANSWER_BYTES", 4096)  # a page of 50 is more
    with pytest.raises(PullError, match="more than the 4096 bytes allowed"):
        await pull_shop(kernel, client, target, settings, review)
    async with kernel.uow() as uow:
        failed = await repository.pull_state(uow.session, "shopify", shop)
    assert failed is not None
    assert failed.last_error is not None
    assert "4096 bytes" in failed.last_error
    lookback = timedelta(seconds=settings.order_pull_lookback_s)
    assert failed.watermark < datetime.now(UTC) - lookback + timedelta(minutes=1)  # unmoved
    assert await _accepted(engine, shop) == []

    monkeypatch.undo()
    tally = await pull_shop(kernel, client, target, settings, review)
    assert (tally.pulled, tally.reconciled) == (60, 60)
    assert await _accepted(engine, shop) == sorted(made)


async def test_the_health_gauges_say_how_each_shops_intake_goes(
    pulling: Pulling,
    shop: str,
) -> None:
    kernel, client, target, settings, review = pulling
    _put(shop, 4, seed=6)
    await pull_shop(kernel, client, target, settings, review)
    await refresh_health(kernel, [target])
    labels = {"platform": "shopify", "shop": shop}
    assert metric("lvyue_intake_missed_by_push_ratio", **labels) == 1.0  # no webhook came
    assert 0 <= metric("lvyue_intake_pull_lag_seconds", **labels) < 60
    assert metric("lvyue_intake_pull_failing_seconds", **labels) == 0
    assert metric("lvyue_intake_last_pull_timestamp_seconds", **labels) > 0


async def _webhook(engine: AsyncEngine, shop: str, delivery_id: str, at: datetime) -> None:
    """A webhook the platform pushed for one of the shop's orders, received `at`."""
    async with engine.begin() as conn:
        order_id = await conn.scalar(select(orders.c.id).where(orders.c.shop_id == shop).limit(1))
        await conn.execute(
            webhook_deliveries.insert().values(
                platform="shopify", delivery_id=delivery_id, order_id=order_id,
                received_at=at, body="{}",
            )
        )  # fmt: skip


async def test_a_shops_last_notification_outlives_the_pruning_of_its_webhooks(
    pulling: Pulling,
    engine: AsyncEngine,
    shop: str,
) -> None:
    kernel, client, target, settings, review = pulling
    labels = {"platform": "shopify", "shop": shop}
    _put(shop, 1, seed=11)
    await pull_shop(kernel, client, target, settings, review)
    notified = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    await _webhook(engine, shop, f"{shop}-1", notified)
    await refresh_health(kernel, [target])
    assert metric("lvyue_intake_last_notification_timestamp_seconds", **labels) == (
        notified.timestamp()
    )

    # The next round reads only what arrived since the last one, less its overlap: a webhook
    # stamped an hour before that round is not read again.
    await _webhook(engine, shop, f"{shop}-2", datetime.now(UTC) - timedelta(hours=1))
    async with engine.begin() as conn:  # as the retention job prunes them
        await conn.execute(
            webhook_deliveries.delete().where(webhook_deliveries.c.delivery_id == f"{shop}-1")
        )
    await refresh_health(kernel, [target])
    async with kernel.uow() as uow:
        state = await repository.pull_state(uow.session, "shopify", shop)
    assert state is not None
    assert state.last_notification_at == notified
    assert state.notifications_read_to is not None

    latest = datetime.now(UTC).replace(microsecond=0)
    await _webhook(engine, shop, f"{shop}-3", latest)
    await refresh_health(kernel, [target])
    assert metric("lvyue_intake_last_notification_timestamp_seconds", **labels) == (
        latest.timestamp()
    )


async def test_an_order_cancelled_on_the_platform_is_cancelled_here_before_dispatch(
    pulling: Pulling,
    shop: str,
) -> None:
    kernel, client, target, settings, review = pulling
    kept, cancelled, shipped = _put(shop, 3, seed=8)
    await pull_shop(kernel, client, target, settings, review)
    ids: dict[str, uuid.UUID] = {}
    async with kernel.uow() as uow:
        for platform_id in (kept, cancelled, shipped):
            found = await repository.order_id_for(
                uow.session, platform="shopify", shop_id=shop, platform_order_id=platform_id
            )
            assert found is not None
            ids[platform_id] = found
        await repository.set_status(  # as if dispatched since
            uow.session, order_id=ids[shipped], status=OrderStatus.SHIPPED,
            at=uow.clock.now(), note="test: dispatched",
        )  # fmt: skip
        await uow.commit()
    now = datetime.now(UTC).isoformat()
    for platform_id in (cancelled, shipped):  # cancelled by the buyer on Shopify
        order = sandbox_shopify.STORE.orders[int(platform_id)]
        order |= {"cancelled_at": now, "updated_at": now, "cancel_reason": "customer"}
    before = metric("lvyue_intake_platform_cancellations_total", platform="shopify",
                    outcome="after_dispatch")  # fmt: skip
    await pull_shop(kernel, client, target, settings, review)
    async with kernel.uow() as uow:
        records = {p: await repository.get_order(uow.session, i) for p, i in ids.items()}
    status = {p: r.status for p, r in records.items() if r is not None}
    # review does not run here (no consumers): the kept order still waits for it; the one
    # dispatched is an after-sale matter, not a cancellation
    assert status == {kept: "pending_review", cancelled: "cancelled", shipped: "shipped"}
    after = metric("lvyue_intake_platform_cancellations_total", platform="shopify",
                   outcome="after_dispatch")  # fmt: skip
    assert after == before + 1
    shipped_record = records[shipped]
    assert shipped_record is not None
    assert shipped_record.history[-1].note == "cancelled on shopify after dispatch: customer"
    await pull_shop(kernel, client, target, settings, review)  # read again: nothing changes
    async with kernel.uow() as uow:
        again = await repository.get_order(uow.session, ids[cancelled])
        reported = await uow.session.scalar(
            select(func.count()).where(
                outbox.c.topic.endswith("order.cancel_after_dispatch"),
                outbox.c.key == str(ids[shipped]),
            )
        )
    assert again is not None
    assert again.status == "cancelled"
    assert reported == 1  # aftersales is told once, however often the pull reads it
    assert metric("lvyue_intake_platform_cancellations_total", platform="shopify",
                  outcome="after_dispatch") == after  # fmt: skip


# --- 淘宝 and 京东: pulled a day at a time (淘宝's message queue: test_taobao_messages.py)

TAOBAO_SHOP = "绿悦家居旗舰店"
JD_SHOP = "10086123"


@dataclass(frozen=True)
class PullOnly:
    """How the sandbox keeps one platform's orders, for the same test on each."""

    shop: str
    make: Callable[[random.Random], dict[str, Any]]
    store: Callable[[], dict[str, dict[str, Any]]]
    id_field: str
    modified: str
    state: tuple[str, str]  # (the status field, its cancelled value)
    says: str


PULL_ONLY = {
    "taobao": PullOnly(
        TAOBAO_SHOP, lambda rng: sandbox_taobao.new_trade(rng, ["TEA-LJ-250G"], TAOBAO_SHOP),
        lambda: sandbox_taobao.STORE.trades, "tid_str", "modified", ("status", "TRADE_CLOSED"),
        "the trade was closed (TRADE_CLOSED)",
    ),
    "jd": PullOnly(
        JD_SHOP, lambda rng: sandbox_jd.new_order(rng, ["TEA-LJ-250G"], JD_SHOP),
        lambda: sandbox_jd.STORE.orders, "orderId", "modified", ("orderState", "TRADE_CANCELED"),
        "the order was cancelled (TRADE_CANCELED)",
    ),
}  # fmt: skip


@pytest.fixture(params=sorted(PULL_ONLY))
async def pull_only(
    request: pytest.FixtureRequest, make_settings: Callable[..., OrderReviewSettings]
) -> AsyncIterator[PullingOnly]:
    platform: str = request.param
    shop = {"base_url": f"http://sandbox/{platform}", "access_token": sandbox.ACCESS_TOKEN,
            "app_key": sandbox.APP_KEY, "app_secret": sandbox.APP_SECRET}  # fmt: skip
    settings = make_settings(
        **QUIET, order_pull_shops={f"{platform}/{PULL_ONLY[platform].shop}": shop},
        order_pull_page_size=40, order_pull_lookback_s=3 * 86_400,
    )  # fmt: skip
    app = build_app(settings)
    sandbox_taobao.STORE, sandbox_jd.STORE = sandbox_taobao.TaobaoStore(), sandbox_jd.JdStore()
    transport = httpx.ASGITransport(app=sandbox.app())
    async with serve(app), httpx.AsyncClient(transport=transport) as client:
        (target,) = PullTarget.all(settings)
        yield platform, app.state.kernel, client, target, settings, app.state.review
    sandbox_taobao.STORE, sandbox_jd.STORE = sandbox_taobao.TaobaoStore(), sandbox_jd.JdStore()


async def test_pulls_read_every_day_of_the_window_and_a_cancellation_stops_the_order(
    pull_only: PullingOnly,
    engine: AsyncEngine,
) -> None:
    platform, kernel, client, target, settings, review = pull_only
    spec = PULL_ONLY[platform]
    rng = random.Random(9)
    made = [spec.make(rng) for _ in range(90)]
    for n, order in enumerate(made):  # modified over the last two and a half days
        order[spec.modified] = china_time_text(datetime.now(UTC) - timedelta(hours=n * 2 / 3))
        spec.store()[order[spec.id_field]] = order
    tally = await pull_shop(kernel, client, target, settings, review)
    assert (tally.pulled, tally.reconciled, tally.invalid) == (90, 90, 0)
    assert await _accepted(engine, spec.shop) == sorted(o[spec.id_field] for o in made)

    stopped = made[0]  # the newest: cancelled (淘宝: refunded before shipment, the trade closed)
    field, value = spec.state
    stopped.update({field: value, spec.modified: china_time_text(datetime.now(UTC))})
    await pull_shop(kernel, client, target, settings, review)
    async with kernel.uow() as uow:
        order_id = await repository.order_id_for(
            uow.session, platform=platform, shop_id=spec.shop,
            platform_order_id=stopped[spec.id_field],
        )  # fmt: skip
        assert order_id is not None
        record = await repository.get_order(uow.session, order_id)
    assert record is not None
    assert record.status == "cancelled"
    assert spec.says in record.history[-1].note


async def test_shopify_s_orders_cancelled_webhook_is_stored_once_and_cancels_the_order(
    make_settings: Callable[..., OrderReviewSettings], shop: str, engine: AsyncEngine
) -> None:
    settings = make_settings(
        **QUIET,
        order_pull_shops={f"shopify/{shop}": {"base_url": f"http://sandbox/shopify/{shop}",
                                              "access_token": sandbox.ACCESS_TOKEN}},
    )  # fmt: skip
    app = build_app(settings)
    transport = httpx.ASGITransport(app=sandbox.app())
    async with serve(app) as review, httpx.AsyncClient(transport=transport) as client:
        (target,) = PullTarget.all(settings)
        kernel = app.state.kernel
        review_context = app.state.review
        taking = Taking({("shopify", shop): target}, settings, review_context)
        (kept, cancelled) = _put(shop, 2, seed=21)
        # both held, as webhooks would
        await pull_shop(kernel, client, target, settings, review_context)
        order = sandbox_shopify.STORE.orders[int(cancelled)]
        now = datetime.now(UTC).isoformat()
        order |= {"cancelled_at": now, "updated_at": now, "cancel_reason": "customer"}
        body = json.dumps({k: v for k, v in order.items() if k != "shop"}).encode()
        headers = sandbox_shopify.webhook_headers(body, WEBHOOK_SECRET, shop, "orders/cancelled")

        async def send(**changed: str) -> httpx.Response:
            return await review.post(
                "/notifications/shopify", content=body, headers=headers | changed
            )

        answers = [await send(), await send()]  # delivered again: the same webhook id
        other = await send(**{"X-Shopify-Topic": "orders/updated",
                              "X-Shopify-Webhook-Id": "w-2"})  # fmt: skip
        forged = await send(**{"X-Shopify-Hmac-Sha256": "AAAA"})
        no_id = await send(**{"X-Shopify-Webhook-Id": ""})
        assert not await take_notifications(kernel, client, taking)
        status = {
            p: (await held_order(kernel, "shopify", shop, p)).status for p in (kept, cancelled)
        }
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json() == {"received": True}
    assert other.status_code == 200  # acknowledged, not stored
    assert forged.status_code == 401
    assert no_id.status_code == 422
    assert "X-Shopify-Webhook-Id" in no_id.text
    async with engine.connect() as conn:
        stored = await conn.scalar(
            select(func.count()).where(
                order_notifications.c.platform == "shopify", order_notifications.c.shop_id == shop
            )
        )
    assert stored == 1
    assert status == {kept: "pending_review", cancelled: "cancelled"}
