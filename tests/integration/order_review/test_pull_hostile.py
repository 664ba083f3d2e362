"""Hostile platform answers met by the pulls and the notification fetch, against the real
PostgreSQL, the sandbox's shops answering: an order that cannot be taken in, whatever fails on
the way (a date at the end of the calendar, a status of the wrong type), is counted as
unreadable and passed by while the rest of its page or batch goes through; one order failing
otherwise (the database refuses it) is tried again later without holding up its batch; and a
shop whose pull fails unexpectedly is recorded as failing while the shops after it are pulled."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.cli import (
    sandbox,
    sandbox_douyin,
    sandbox_jd,
    sandbox_pinduoduo,
    sandbox_shopify,
    sandbox_taobao,
)
from lvyue.common.bootstrap import Kernel
from lvyue.order_review import repository
from lvyue.order_review.main import build_app
from lvyue.order_review.notifications.fetch import Taking, take_notifications
from lvyue.order_review.pulls.job import order_pulls_job
from lvyue.order_review.pulls.reconcile import PullTarget, pull_shop
from lvyue.order_review.review import ReviewContext
from lvyue.order_review.settings import OrderReviewSettings
from lvyue.order_review.tables import order_notifications, orders
from tests.support.apps import QUIET, on_loopback, serve
from tests.support.held_orders import held_order
from tests.support.metrics import metric
from tests.support.polling import eventually
from tests.support.refusals import REFUSAL, refuse_rows

SKU = "TEA-LJ-250G"
END_OF_CALENDAR = "9999-12-31 23:59:59"  # China time: past the last UTC day once converted


@dataclass(frozen=True)
class Platform:
    """How the sandbox keeps one platform's orders, and what a shop of it is configured with."""

    shop: Callable[[], str]  # a shop id (one per test where the sandbox allows it)
    config: dict[str, str]
    make: Callable[[random.Random, str], dict[str, Any]]
    keep: Callable[[dict[str, Any], str], None]  # into the sandbox's store
    id_field: str


def _shopify(rng: random.Random, shop: str) -> dict[str, Any]:
    return sandbox_shopify.new_order(rng, [SKU], datetime.now(UTC))


def _keep_shopify(order: dict[str, Any], shop: str) -> None:
    sandbox_shopify.STORE.orders[order["id"]] = order | {"shop": shop}


def _douyin(rng: random.Random, shop: str) -> dict[str, Any]:
    return sandbox_douyin.new_order(rng, [SKU], shop, int(time.time()))


def _keep_douyin(order: dict[str, Any], shop: str) -> None:
    sandbox_douyin.STORE.orders[order["order_id"]] = order
    sandbox_douyin.STORE.listed.add(order["order_id"])


def _pinduoduo(rng: random.Random, shop: str) -> dict[str, Any]:
    return sandbox_pinduoduo.new_order(rng, [SKU], time.time())


def _keep_pinduoduo(order: dict[str, Any], shop: str) -> None:
    sandbox_pinduoduo.STORE.orders[order["order_sn"]] = order
    sandbox_pinduoduo.STORE.listed.add(order["order_sn"])


def _keep_taobao(order: dict[str, Any], shop: str) -> None:
    sandbox_taobao.STORE.trades[order["tid_str"]] = order


def _keep_jd(order: dict[str, Any], shop: str) -> None:
    sandbox_jd.STORE.orders[order["orderId"]] = order


GATEWAY = {"access_token": sandbox.ACCESS_TOKEN, "app_key": sandbox.APP_KEY,
           "app_secret": sandbox.APP_SECRET}  # fmt: skip
PLATFORMS: dict[str, Platform] = {
    "shopify": Platform(
        lambda: f"hostile-{uuid.uuid4().hex[:8]}.myshopify.com",
        {"access_token": sandbox.ACCESS_TOKEN}, _shopify, _keep_shopify, "id",
    ),
    "douyin": Platform(
        lambda: str(random.randrange(10**7, 10**8)),
        {"base_url": "http://sandbox/douyin", "access_token": sandbox.ACCESS_TOKEN,
         "app_key": sandbox_douyin.APP_KEY, "app_secret": sandbox_douyin.APP_SECRET},
        _douyin, _keep_douyin, "order_id",
    ),
    "pinduoduo": Platform(
        lambda: sandbox.APP_KEY, GATEWAY | {"base_url": "http://sandbox/pinduoduo"},
        _pinduoduo, _keep_pinduoduo, "order_sn",
    ),
    "taobao": Platform(
        lambda: "绿悦家居旗舰店", GATEWAY | {"base_url": "http://sandbox/taobao"},
        lambda rng, shop: sandbox_taobao.new_trade(rng, [SKU], shop), _keep_taobao, "tid_str",
    ),
    "jd": Platform(
        lambda: "10086123", GATEWAY | {"base_url": "http://sandbox/jd"},
        lambda rng, shop: sandbox_jd.new_order(rng, [SKU], shop), _keep_jd, "orderId",
    ),
}  # fmt: skip


@dataclass
class Shop:
    """One shop of a platform, pulled and fetched against the sandbox in process."""

    platform: str
    kernel: Kernel
    client: httpx.AsyncClient  # the sandbox's platform APIs
    target: PullTarget
    settings: OrderReviewSettings
    review: ReviewContext

    @property
    def spec(self) -> Platform:
        return PLATFORMS[self.platform]

    def put(self, count: int, *, seed: int, **changes: Any) -> list[str]:
        """Orders in the shop no notification announced; their platform ids."""
        rng = random.Random(seed)
        made = []
        for _ in range(count):
            order = self.spec.make(rng, self.target.shop_id) | changes
            self.spec.keep(order, self.target.shop_id)
            made.append(str(order[self.spec.id_field]))
        return made

    async def accepted(self, engine: AsyncEngine) -> list[str]:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(orders.c.platform_order_id).where(
                    orders.c.platform == self.platform, orders.c.shop_id == self.target.shop_id
                )
            )
        return sorted(r[0] for r in rows)

    async def notify(self, *platform_order_ids: str, kind: str = "paid") -> None:
        """As a push or a message stores them, each under a message id of its own."""
        found = [
            repository.NewNotification(
                self.platform, uuid.uuid4().hex, self.target.shop_id, order_id, kind
            )
            for order_id in platform_order_ids
        ]
        async with self.kernel.uow() as uow:
            await repository.record_notifications(uow.session, found, received_at=uow.clock.now())
            await uow.commit()

    async def fetch(self) -> bool:
        taking = Taking({(self.platform, self.target.shop_id): self.target}, self.settings,
                        self.review)  # fmt: skip
        return await take_notifications(self.kernel, self.client, taking)

    def unreadable(self) -> float:
        return metric("lvyue_intake_unreadable_orders_total", platform=self.platform,
                      shop=self.target.shop_id)  # fmt: skip


def _reset_sandbox() -> None:
    sandbox_douyin.STORE = sandbox_douyin.DouyinStore()
    sandbox_pinduoduo.STORE = sandbox_pinduoduo.PddStore()
    sandbox_taobao.STORE = sandbox_taobao.TaobaoStore()
    sandbox_jd.STORE = sandbox_jd.JdStore()


@asynccontextmanager
async def _shop(
    make_settings: Callable[..., OrderReviewSettings], platform: str
) -> AsyncIterator[Shop]:
    spec = PLATFORMS[platform]
    shop_id = spec.shop()
    config = {"base_url": f"http://sandbox/shopify/{shop_id}"} | spec.config
    settings = make_settings(
        **QUIET, order_pull_shops={f"{platform}/{shop_id}": config}, order_pull_page_size=50,
        order_pull_lookback_s=3600, notification_fetch_batch=40,
    )  # fmt: skip
    app = build_app(settings)
    _reset_sandbox()
    transport = httpx.ASGITransport(app=sandbox.app())
    try:
        async with serve(app), httpx.AsyncClient(transport=transport) as client:
            (target,) = PullTarget.all(settings)
            yield Shop(platform, app.state.kernel, client, target, settings, app.state.review)
    finally:
        _reset_sandbox()
        for key in [k for k, o in sandbox_shopify.STORE.orders.items() if o["shop"] == shop_id]:
            del sandbox_shopify.STORE.orders[key]


# (what is wrong, the platform, the order's fields as the platform answers them)
HOSTILE_ORDERS: list[tuple[str, str, dict[str, Any]]] = [
    ("paid in year 9999", "shopify", {"processed_at": "9999-12-31T20:00:00+00:00"}),
    ("paid in year 9999", "douyin", {"pay_time": 253402271999}),
    ("paid in year 9999", "pinduoduo", {"pay_time": END_OF_CALENDAR}),
    ("paid in year 9999", "taobao", {"pay_time": END_OF_CALENDAR}),
    ("paid in year 9999", "jd", {"paymentConfirmTime": END_OF_CALENDAR}),
    ("a status that is a list", "taobao", {"status": ["TRADE_CLOSED"]}),
    ("a status that is an object", "taobao", {"status": {"closed": True}}),
]


@pytest.mark.parametrize(
    ("platform", "changes"),
    [pytest.param(p, c, id=f"{p}: {name}") for name, p, c in HOSTILE_ORDERS],
)
async def test_an_order_that_cannot_be_taken_in_is_passed_by_and_the_rest_of_the_page_accepted(
    make_settings: Callable[..., OrderReviewSettings],
    engine: AsyncEngine,
    platform: str,
    changes: dict[str, Any],
) -> None:
    async with _shop(make_settings, platform) as shop:
        good = shop.put(3, seed=1)
        shop.put(1, seed=2, **changes)
        unreadable = shop.unreadable()
        tally = await pull_shop(shop.kernel, shop.client, shop.target, shop.settings, shop.review)
        assert (tally.pulled, tally.reconciled, tally.invalid) == (4, 3, 1)
        assert await shop.accepted(engine) == sorted(good)
        assert shop.unreadable() == unreadable + 1
        async with shop.kernel.uow() as uow:
            state = await repository.pull_state(uow.session, platform, shop.target.shop_id)
        assert state is not None
        assert (state.last_error, state.failing_since) == (None, None)  # the pull went through


# Notifications name orders the shop's API then answers with; fetched in one batch.
HOSTILE_FETCHED: list[tuple[str, str, dict[str, Any]]] = [
    ("paid in year 9999", "douyin", {"pay_time": 253402271999}),
    ("paid in year 9999", "taobao", {"pay_time": END_OF_CALENDAR}),
    ("a status that is a list", "taobao", {"status": ["TRADE_CLOSED"]}),
]


@pytest.mark.parametrize(
    ("platform", "changes"),
    [pytest.param(p, c, id=f"{p}: {name}") for name, p, c in HOSTILE_FETCHED],
)
async def test_a_notified_order_that_cannot_be_taken_in_is_passed_by_and_the_batch_goes_through(
    make_settings: Callable[..., OrderReviewSettings],
    engine: AsyncEngine,
    platform: str,
    changes: dict[str, Any],
) -> None:
    async with _shop(make_settings, platform) as shop:
        good = shop.put(3, seed=3)
        bad = shop.put(1, seed=4, **changes)
        await shop.notify(good[0], *bad, *good[1:])  # the bad one amid the others
        unreadable = shop.unreadable()
        assert not await shop.fetch()
        assert await shop.accepted(engine) == sorted(good)
        assert shop.unreadable() == unreadable + 1
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(order_notifications).where(
                        order_notifications.c.shop_id == shop.target.shop_id
                    )
                )
            ).all()
        # all done: the unreadable one too (what a fetch cannot read, the pull reads no better)
        assert [(r.done_at is not None, r.last_error) for r in rows] == [(True, None)] * 4


async def test_a_notified_order_failing_otherwise_is_tried_again_later_and_the_batch_goes_through(
    make_settings: Callable[..., OrderReviewSettings], engine: AsyncEngine
) -> None:
    async with _shop(make_settings, "douyin") as shop:
        held, cancelled = shop.put(2, seed=5)
        await shop.notify(held, cancelled)
        await shop.fetch()
        sandbox_douyin.STORE.orders[cancelled]["order_status"] = 4  # cancelled by the buyer
        (new,) = shop.put(1, seed=6)
        await refuse_rows(engine, "orders", f"NEW.platform_order_id = '{cancelled}'")
        await shop.notify(cancelled, kind="cancelled")
        await shop.notify(new)
        assert not await shop.fetch()
        assert await shop.accepted(engine) == sorted([held, cancelled, new])
        assert (await held_order(shop.kernel, "douyin", shop.target.shop_id, cancelled)).status == (
            "pending_review"
        )  # not cancelled: the database refused it
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(order_notifications).where(
                        order_notifications.c.platform_order_id.in_([cancelled, new]),
                        order_notifications.c.kind != "paid",
                    )
                )
            ).all()
        (refused,) = rows
        assert (refused.done_at, refused.attempts) == (None, 1)  # kept, to be tried again
        assert REFUSAL in refused.last_error
        assert len(refused.last_error) <= 300
        assert refused.due_at > refused.received_at  # after its backoff


async def test_one_shops_unexpected_failure_is_recorded_and_the_shops_after_it_are_pulled(
    make_settings: Callable[..., OrderReviewSettings], engine: AsyncEngine
) -> None:
    tag = uuid.uuid4().hex[:8]
    first, second = f"a-{tag}.myshopify.com", f"b-{tag}.myshopify.com"  # pulled in this order
    rng = random.Random(7)
    made: dict[str, list[str]] = {}
    for shop in (first, second):
        found = [_shopify(rng, shop) for _ in range(3)]
        for order in found:
            _keep_shopify(order, shop)
        made[shop] = sorted(str(o["id"]) for o in found)
    await refuse_rows(engine, "orders", f"NEW.shop_id = '{first}'")
    async with on_loopback(sandbox.app()) as port:
        shops = {f"shopify/{s}": {"base_url": f"http://127.0.0.1:{port}/shopify/{s}",
                                  "access_token": sandbox.ACCESS_TOKEN} for s in made}  # fmt: skip
        settings = make_settings(**QUIET, order_pull_shops=shops, order_pull_interval_s=0.2)
        app = build_app(settings)
        failed_runs = metric("lvyue_job_runs_total", job_name="order_pulls", outcome="failed")
        failures = metric("lvyue_intake_pull_failures_total", platform="shopify", shop=first)
        async with serve(app):
            kernel: Kernel = app.state.kernel
            stop = asyncio.Event()
            job = asyncio.create_task(order_pulls_job(settings, app.state.review)(kernel, stop))

            async def pulled() -> tuple[list[str], float]:
                async with engine.connect() as conn:
                    rows = await conn.execute(
                        select(orders.c.platform_order_id).where(orders.c.shop_id == second)
                    )
                failing = metric("lvyue_intake_pull_failing_seconds", platform="shopify",
                                 shop=first)  # fmt: skip
                return sorted(r[0] for r in rows), failing

            try:
                await eventually(pulled, lambda p: p[0] == made[second] and p[1] > 0)
                async with kernel.uow() as uow:
                    state = await repository.pull_state(uow.session, "shopify", first)
            finally:
                stop.set()
                await asyncio.wait_for(job, 10)
    assert not job.cancelled()
    assert state is not None
    assert state.failing_since is not None
    assert state.last_error is not None
    assert REFUSAL in state.last_error
    assert metric("lvyue_intake_pull_failures_total", platform="shopify", shop=first) > failures
    # the run that met it fails once every shop was tried (counted, the job goes on)
    assert metric("lvyue_job_runs_total", job_name="order_pulls", outcome="failed") > failed_runs
    async with engine.connect() as conn:
        taken = await conn.scalar(select(orders.c.id).where(orders.c.shop_id == first).limit(1))
    assert taken is None
    for shop in made:
        for key in [k for k, o in sandbox_shopify.STORE.orders.items() if o["shop"] == shop]:
            del sandbox_shopify.STORE.orders[key]
