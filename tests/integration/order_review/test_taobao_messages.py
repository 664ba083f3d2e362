"""淘宝's message queue (TMC) against the real PostgreSQL, the sandbox's 淘宝 answering in
process: messages stored once and confirmed only after the commit, a confirmation lost to a
crash delivered again and stored once, each trade fetched and accepted once, what the queue
never announced found by the pull and counted, a closed trade cancelled."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.cli import sandbox, sandbox_taobao
from lvyue.common.bootstrap import Kernel
from lvyue.order_review.main import build_app
from lvyue.order_review.notifications import message_queue
from lvyue.order_review.notifications.fetch import Taking, take_notifications
from lvyue.order_review.pulls.reconcile import PullTarget, pull_shop
from lvyue.order_review.settings import OrderReviewSettings
from lvyue.order_review.tables import order_notifications, orders
from tests.support.apps import QUIET, serve
from tests.support.held_orders import held_order
from tests.support.metrics import metric

SHOP = "绿悦家居旗舰店"
SKU = "TEA-LJ-250G"


@dataclass
class Taobao:
    kernel: Kernel
    platform: httpx.AsyncClient  # the sandbox's TOP gateway
    target: PullTarget
    settings: OrderReviewSettings
    taking: Taking

    async def read_all(self, quantity: int = 20) -> int:
        """Consume calls until one is not full; how many there were."""
        for calls in range(1, 50):  # bounded
            full = await message_queue.read_queue(
                self.kernel, self.platform, self.target.shop, quantity
            )
            if not full:
                return calls
        raise AssertionError("the queue never ran out")

    async def fetch_all(self) -> None:
        for _ in range(50):  # bounded: a batch at a time until none is full
            if not await take_notifications(self.kernel, self.platform, self.taking):
                return
        raise AssertionError("notifications never ran out")


@pytest.fixture
async def taobao(make_settings: Callable[..., OrderReviewSettings]) -> AsyncIterator[Taobao]:
    shop = {"base_url": "http://sandbox/taobao", "access_token": sandbox.ACCESS_TOKEN,
            "app_key": sandbox.APP_KEY, "app_secret": sandbox.APP_SECRET}  # fmt: skip
    settings = make_settings(
        **QUIET, order_pull_shops={f"taobao/{SHOP}": shop}, order_pull_page_size=40,
        notification_fetch_batch=25,
    )  # fmt: skip
    app = build_app(settings)
    sandbox_taobao.STORE = sandbox_taobao.TaobaoStore()
    transport = httpx.ASGITransport(app=sandbox.app())
    async with serve(app), httpx.AsyncClient(transport=transport) as client:
        (target,) = PullTarget.all(settings)
        taking = Taking({(target.platform, target.shop_id): target}, settings, app.state.review)
        yield Taobao(app.state.kernel, client, target, settings, taking)
    sandbox_taobao.STORE = sandbox_taobao.TaobaoStore()


def _trades(count: int, *, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    made = [sandbox_taobao.new_trade(rng, [SKU], SHOP) for _ in range(count)]
    for trade in made:
        sandbox_taobao.STORE.trades[trade["tid_str"]] = trade
    return made


async def _accepted(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(orders.c.platform_order_id).where(
                orders.c.platform == "taobao", orders.c.shop_id == SHOP
            )
        )
    return sorted(r[0] for r in rows)


async def _stored(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        count = await conn.scalar(
            select(func.count()).where(order_notifications.c.platform == "taobao")
        )
    return int(count or 0)


async def test_50_trades_10_never_announced_5_twice_are_each_accepted_once_10_reconciled(
    taobao: Taobao, engine: AsyncEngine
) -> None:
    made = _trades(50, seed=3)
    fetched = metric("lvyue_intake_notification_fetches_total", platform="taobao",
                     outcome="accepted")  # fmt: skip
    for n, trade in enumerate(made[10:]):  # the first ten never announced
        for _ in range(2 if n < 5 else 1):
            sandbox_taobao.announce(sandbox_taobao.PAID, trade)
    assert await taobao.read_all(quantity=20) == 3  # 45 messages: 20, 20, 5
    assert (sandbox_taobao.STORE.confirmed, len(sandbox_taobao.STORE.queue)) == (45, 0)
    assert await _stored(engine) == 45  # the second messages are new ids: stored, one fetch
    await taobao.fetch_all()
    announced = sorted(t["tid_str"] for t in made[10:])
    assert await _accepted(engine) == announced
    assert metric("lvyue_intake_notification_fetches_total", platform="taobao",
                  outcome="accepted") == fetched + 40  # fmt: skip

    tally = await pull_shop(
        taobao.kernel, taobao.platform, taobao.target, taobao.settings, taobao.taking.review
    )
    assert (tally.pulled, tally.reconciled, tally.invalid) == (50, 10, 0)
    assert await _accepted(engine) == sorted(t["tid_str"] for t in made)


async def test_messages_not_confirmed_come_again_and_are_stored_once(
    taobao: Taobao, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    (trade,) = _trades(1, seed=4)
    sandbox_taobao.announce(sandbox_taobao.PAID, trade)
    sandbox_taobao.STORE.redeliver_s = 0.0  # what was not confirmed is due again at once

    async def crash(*args: object) -> None:
        raise ConnectionError("the process died between the commit and the confirmation")

    monkeypatch.setattr(message_queue, "_confirm", crash)
    with pytest.raises(ConnectionError):
        await message_queue.read_queue(taobao.kernel, taobao.platform, taobao.target.shop, 20)
    assert (await _stored(engine), len(sandbox_taobao.STORE.queue)) == (1, 1)
    monkeypatch.undo()
    repeats = metric("lvyue_intake_notifications_total", platform="taobao", kind="paid",
                     outcome="repeat")  # fmt: skip

    await taobao.read_all()
    assert (await _stored(engine), len(sandbox_taobao.STORE.queue)) == (1, 0)
    assert metric("lvyue_intake_notifications_total", platform="taobao", kind="paid",
                  outcome="repeat") == repeats + 1  # fmt: skip
    await taobao.fetch_all()
    assert await _accepted(engine) == [trade["tid_str"]]


async def test_a_closed_trade_announced_is_cancelled_and_a_bad_message_is_confirmed(
    taobao: Taobao, engine: AsyncEngine
) -> None:
    kept, closed = _trades(2, seed=5)
    for trade in (kept, closed):
        sandbox_taobao.announce(sandbox_taobao.PAID, trade)
    sandbox_taobao.announce(sandbox_taobao.PAID, kept)
    bad = max(sandbox_taobao.STORE.queue)
    sandbox_taobao.STORE.queue[bad]["content"] = "{not json"
    await taobao.read_all()
    await taobao.fetch_all()
    closed.update(status="TRADE_CLOSED")
    sandbox_taobao.announce(sandbox_taobao.CLOSED, closed)
    await taobao.read_all()
    assert sandbox_taobao.STORE.queue == {}  # the unreadable one confirmed too
    await taobao.fetch_all()
    status = {}
    for trade in (kept, closed):
        record = await held_order(taobao.kernel, "taobao", SHOP, trade["tid_str"])
        status[trade["tid_str"]] = record.status
    # review does not run here (no consumers): the kept order waits for it
    assert status == {kept["tid_str"]: "pending_review", closed["tid_str"]: "cancelled"}
