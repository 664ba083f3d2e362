"""抖店 notifications against the real PostgreSQL, the sandbox's 抖店 answering in process:
pushes stored once before the answer, each order fetched with the signed API and accepted once
whatever the number of notifications, what no push announced found by the pull and counted,
cancellations stopping the order, failing fetches tried again, hostile pushes refused by name."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.cli import sandbox, sandbox_douyin, sandbox_pinduoduo
from lvyue.cli.sandbox_shopify import Faults
from lvyue.common.bootstrap import Kernel
from lvyue.common.tables import outbox
from lvyue.order_review import repository
from lvyue.order_review.commands.operator import CorrectOrder, correct_order
from lvyue.order_review.domain.status import OrderStatus
from lvyue.order_review.main import build_app
from lvyue.order_review.notifications.fetch import Taking, take_notifications
from lvyue.order_review.pulls.calls import PullError
from lvyue.order_review.pulls.reconcile import PullTally, PullTarget, pull_shop
from lvyue.order_review.repository import OrderRecord
from lvyue.order_review.review import ReviewContext
from lvyue.order_review.settings import OrderReviewSettings
from lvyue.order_review.tables import order_notifications, orders
from tests.support.apps import QUIET, serve
from tests.support.held_orders import held_order
from tests.support.metrics import metric

SKU = "TEA-LJ-250G"


@dataclass
class Douyin:
    kernel: Kernel
    review: httpx.AsyncClient  # order-review's API
    platform: httpx.AsyncClient  # the sandbox's 抖店 API
    target: PullTarget
    settings: OrderReviewSettings
    shop_id: str
    review_context: ReviewContext

    async def push(self, messages: list[dict[str, Any]], **headers: str) -> httpx.Response:
        body = json.dumps(messages, ensure_ascii=False).encode()
        return await self.post(body, **(sandbox_douyin.push_headers(body) | headers))

    async def post(self, body: bytes, **headers: str) -> httpx.Response:
        return await self.review.post("/notifications/douyin", content=body, headers=headers)

    def taking(self, target: PullTarget | None = None) -> Taking:
        target = target or self.target
        return Taking(
            {(target.platform, target.shop_id): target}, self.settings, self.review_context
        )

    async def pull(self) -> PullTally:
        return await pull_shop(
            self.kernel, self.platform, self.target, self.settings, self.review_context
        )

    async def fetch_all(self) -> None:
        for _ in range(100):  # bounded: a batch at a time until none is full
            if not await take_notifications(self.kernel, self.platform, self.taking()):
                return
        raise AssertionError("notifications never ran out")


@pytest.fixture
async def douyin(make_settings: Callable[..., OrderReviewSettings]) -> AsyncIterator[Douyin]:
    shop_id = str(random.randrange(10**7, 10**8))
    shop = {
        "base_url": "http://sandbox/douyin",
        "access_token": sandbox.ACCESS_TOKEN,
        "app_key": sandbox_douyin.APP_KEY,
        "app_secret": sandbox_douyin.APP_SECRET,
    }
    settings = make_settings(
        **QUIET, order_pull_shops={f"douyin/{shop_id}": shop}, order_pull_page_size=50,
        notification_fetch_batch=40,
    )  # fmt: skip
    app = build_app(settings)
    sandbox_douyin.STORE = sandbox_douyin.DouyinStore()  # one shop's orders: this test's
    transport = httpx.ASGITransport(app=sandbox.app())
    async with serve(app) as review, httpx.AsyncClient(transport=transport) as platform:
        (target,) = PullTarget.all(settings)
        yield Douyin(
            app.state.kernel, review, platform, target, settings, shop_id, app.state.review
        )
    sandbox_douyin.STORE = sandbox_douyin.DouyinStore()


def _put(shop_id: str, count: int, *, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    made = [sandbox_douyin.new_order(rng, [SKU], shop_id, int(time.time())) for _ in range(count)]
    for order in made:
        sandbox_douyin.STORE.orders[order["order_id"]] = order
        sandbox_douyin.STORE.listed.add(order["order_id"])
    return made


def _paid(order: dict[str, Any]) -> dict[str, Any]:
    return sandbox_douyin.message(sandbox_douyin.TAG_PAID, order)


async def _held_new(douyin: Douyin, count: int, *, seed: int) -> list[dict[str, Any]]:
    """`count` new orders, pushed as paid and fetched: lvyue holds them."""
    made = _put(douyin.shop_id, count, seed=seed)
    await douyin.push([_paid(order) for order in made])
    await douyin.fetch_all()
    return made


async def _states(douyin: Douyin, *made: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Each order's status and the note of its last change, by its 抖店 order id."""
    states = {}
    for order in made:
        record = await held_order(douyin.kernel, "douyin", douyin.shop_id, order["order_id"])
        states[order["order_id"]] = (record.status, record.history[-1].note or "")
    return states


async def _accepted(engine: AsyncEngine, shop_id: str) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(orders.c.platform_order_id).where(
                orders.c.platform == "douyin", orders.c.shop_id == shop_id
            )
        )
    return sorted(r[0] for r in rows)


async def test_200_orders_a_fifth_not_pushed_are_all_accepted_once_40_reconciled(
    douyin: Douyin, engine: AsyncEngine
) -> None:
    made = _put(douyin.shop_id, 200, seed=1)
    pushed = made[:160]
    for order in pushed:  # one push each
        answer = await douyin.push([_paid(order)])
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"code": 0, "msg": "success"}
    again = await douyin.push([_paid(o) for o in pushed[:30]])  # and 30 pushed again, new ids
    assert again.status_code == 200, again.text
    await douyin.fetch_all()
    assert await _accepted(engine, douyin.shop_id) == sorted(o["order_id"] for o in pushed)

    tally = await douyin.pull()
    assert (tally.pulled, tally.reconciled, tally.invalid) == (200, 40, 0)
    assert await _accepted(engine, douyin.shop_id) == sorted(o["order_id"] for o in made)
    again_tally = await douyin.pull()
    assert again_tally.reconciled == 0  # the overlap read them again: nothing new
    async with engine.connect() as conn:
        pending = await conn.scalar(
            select(func.count()).where(
                order_notifications.c.shop_id == douyin.shop_id,
                order_notifications.c.done_at.is_(None),
            )
        )
    assert pending == 0


async def test_a_push_repeated_is_stored_once_and_its_order_accepted_once(
    douyin: Douyin, engine: AsyncEngine
) -> None:
    (order,) = _put(douyin.shop_id, 1, seed=2)
    message = _paid(order)
    before = metric("lvyue_intake_notifications_total", platform="douyin", kind="paid",
                    outcome="repeat")  # fmt: skip
    for _ in range(3):
        assert (await douyin.push([message])).status_code == 200
    after = metric("lvyue_intake_notifications_total", platform="douyin", kind="paid",
                   outcome="repeat")  # fmt: skip
    assert after == before + 2
    async with engine.connect() as conn:
        stored = await conn.scalar(
            select(func.count()).where(order_notifications.c.message_id == message["msg_id"])
        )
    assert stored == 1
    await douyin.fetch_all()
    await douyin.fetch_all()
    assert await _accepted(engine, douyin.shop_id) == [order["order_id"]]


async def test_a_cancellation_pushed_cancels_the_order_before_dispatch(
    douyin: Douyin, engine: AsyncEngine
) -> None:
    (order,) = _put(douyin.shop_id, 1, seed=3)
    await douyin.push([_paid(order)])
    await douyin.fetch_all()
    order.update(order_status=sandbox_douyin.CANCELLED, update_time=int(time.time()))
    order["cancel_reason"] = "买家取消"
    await douyin.push([sandbox_douyin.message(sandbox_douyin.TAG_CANCELLED, order)])
    await douyin.fetch_all()
    record = await held_order(douyin.kernel, "douyin", douyin.shop_id, order["order_id"])
    assert record.status == "cancelled"
    assert "cancelled on douyin: 买家取消" in record.history[-1].note


async def test_a_whole_order_refunded_before_shipment_stops_it_a_refund_after_does_not(
    douyin: Douyin, engine: AsyncEngine
) -> None:
    refunded, later = await _held_new(douyin, 2, seed=13)
    # 抖店's detail may still say 备货中: the message itself says the whole order was refunded
    before, after = (
        sandbox_douyin.message(sandbox_douyin.TAG_REFUNDED, order, aftersale_type=kind)
        for order, kind in ((refunded, 2), (later, 1))  # 1: 售后仅退款, after shipment
    )
    assert (await douyin.push([before, after])).status_code == 200
    await douyin.fetch_all()
    status = await _states(douyin, refunded, later)
    assert status[refunded["order_id"]][0] == "cancelled"
    assert "refunded before shipment" in status[refunded["order_id"]][1]
    assert status[later["order_id"]][0] == "pending_review"  # not stored: aftersales' case


async def test_a_whole_order_refund_whose_push_was_lost_is_found_by_the_next_pull(
    douyin: Douyin,
) -> None:
    refunded, kept = await _held_new(douyin, 2, seed=17)
    # 抖店 closes the order (order_status 4, main_status 21 发货前退款完结); the push is lost
    dropped = await douyin.platform.post(
        f"http://sandbox/_sim/douyin/orders/{refunded['order_id']}/refund", json={"drop": True}
    )
    assert dropped.status_code == 200, dropped.text
    tally = await douyin.pull()
    assert tally.pulled == 2
    status = await _states(douyin, refunded, kept)
    assert status[refunded["order_id"]][0] == "cancelled"
    assert "refunded before shipment (发货前退款完结)" in status[refunded["order_id"]][1]
    assert status[kept["order_id"]][0] != "cancelled"


async def test_a_fetch_that_fails_keeps_the_notification_and_backs_off(
    douyin: Douyin, engine: AsyncEngine
) -> None:
    (order,) = _put(douyin.shop_id, 1, seed=4)
    broken = douyin.target.shop.model_copy(update={"app_key": "someone-else"})
    wrong = PullTarget(douyin.target.platform, douyin.shop_id, broken, douyin.target.source)
    await douyin.push([_paid(order)])
    taking = douyin.taking(wrong)
    assert not await take_notifications(douyin.kernel, douyin.platform, taking)
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(order_notifications).where(order_notifications.c.shop_id == douyin.shop_id)
            )
        ).one()
    assert (row.attempts, row.done_at) == (1, None)
    assert "30001" in row.last_error  # 抖店's complaint, kept for the operator
    assert row.due_at > row.received_at  # not before its backoff
    assert await _accepted(engine, douyin.shop_id) == []


async def test_a_pull_failing_on_a_page_resumes_without_a_miss_or_a_duplicate(
    douyin: Douyin, engine: AsyncEngine
) -> None:
    made = _put(douyin.shop_id, 120, seed=5)
    sandbox_douyin.STORE.faults = Faults(fail_pages=3, from_offset=50)
    with pytest.raises(PullError):
        await douyin.pull()
    assert len(await _accepted(engine, douyin.shop_id)) == 50  # the first page, committed
    tally = await douyin.pull()
    assert (tally.pulled, tally.reconciled) == (120, 70)
    assert await _accepted(engine, douyin.shop_id) == sorted(o["order_id"] for o in made)


def _message(**changes: Any) -> dict[str, Any]:
    data = {"p_id": 6919283746501234567, "shop_id": 4463798, "order_status": 2}
    return {"tag": "101", "msg_id": "m-1", "data": json.dumps(data)} | changes


HOSTILE: list[tuple[str, Any, int, str]] = [
    ("an object, not an array", {"tag": "101"}, 422, "JSON array of messages"),
    ("a message that is a string", ["101"], 422, "must be a message object"),
    ("no tag", [_message(tag=None)], 422, "tag"),
    ("no message id", [_message(msg_id=None)], 422, "message id"),
    ("a message id of 200 characters", [_message(msg_id="m" * 200)], 422, "128"),
    ("data not JSON", [_message(data="{p_id")], 422, "data: malformed JSON"),
    ("data an array", [_message(data="[1]")], 422, "data: must be a JSON object"),
    ("no order id", [_message(data=json.dumps({"shop_id": 1}))], 422, "shop order id"),
    ("an order id as a float", [_message(data='{"p_id": 1.5, "shop_id": 1}')], 422, "order id"),
    ("no shop id", [_message(data=json.dumps({"p_id": 12}))], 422, "shop id"),
    # Ids are index keys: 20,000 digits were past PostgreSQL's btree entry (a 500).
    (
        "an order id of 20000 digits",
        [_message(data=json.dumps({"p_id": "7" * 20000, "shop_id": 1}))],
        422,
        "shop order id",
    ),
    (
        "a shop id of 65 digits",
        [_message(data=json.dumps({"p_id": 12, "shop_id": "8" * 65}))],
        422,
        "shop id",
    ),
    ("501 messages", [_message(msg_id=f"m{i}") for i in range(501)], 422, "more than 500"),
    ("data nested 40 deep", [_message(data='{"a":' * 40 + "1" + "}" * 40)], 422, "nesting"),
]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [pytest.param(body, status, says, id=name) for name, body, status, says in HOSTILE],
)
async def test_a_hostile_push_is_refused_naming_what_is_wrong(
    douyin: Douyin, body: Any, status: int, says: str
) -> None:
    answer = await douyin.push(body)
    assert answer.status_code == status, answer.text
    assert says in answer.text


async def test_refused_pushes_store_nothing_and_other_tags_are_acknowledged(
    douyin: Douyin, engine: AsyncEngine
) -> None:
    async def stored() -> int:
        async with engine.connect() as conn:
            count = await conn.scalar(select(func.count()).select_from(order_notifications))
        return int(count or 0)

    before = await stored()
    mixed = [_message(msg_id=f"x-{uuid.uuid4()}"), _message(msg_id=None)]
    assert (await douyin.push(mixed)).status_code == 422  # one bad message refuses the push
    body = json.dumps([_message(msg_id=f"y-{uuid.uuid4()}")]).encode()
    forged = await douyin.post(body, **(sandbox_douyin.push_headers(b"other") | {
        "Content-Type": "application/json"}))  # fmt: skip
    assert forged.status_code == 401, forged.text
    text_plain = await douyin.post(body, **{"Content-Type": "text/plain"})
    assert text_plain.status_code == 415
    assert await stored() == before
    other = await douyin.push([_message(tag="200", msg_id=f"z-{uuid.uuid4()}")])  # a refund
    assert other.status_code == 200
    assert other.json() == {"code": 0, "msg": "success"}
    assert await stored() == before


# --- 拼多多: notifications come by WebSocket (e2e); here its gateway calls and what they find


@pytest.fixture
async def pdd(make_settings: Callable[..., OrderReviewSettings]) -> AsyncIterator[Douyin]:
    shop = {
        "base_url": "http://sandbox/pinduoduo",
        "access_token": sandbox.ACCESS_TOKEN,
        "app_key": sandbox.APP_KEY,
        "app_secret": sandbox.APP_SECRET,
    }
    settings = make_settings(
        **QUIET, order_pull_shops={f"pinduoduo/{sandbox.APP_KEY}": shop},
        order_pull_page_size=50, order_pull_lookback_s=3 * 3600,
    )  # fmt: skip
    app = build_app(settings)
    sandbox_pinduoduo.STORE = sandbox_pinduoduo.PddStore()
    transport = httpx.ASGITransport(app=sandbox.app())
    async with serve(app) as review, httpx.AsyncClient(transport=transport) as platform:
        (target,) = PullTarget.all(settings)
        yield Douyin(
            app.state.kernel, review, platform, target, settings, sandbox.APP_KEY,
            app.state.review,
        )  # fmt: skip
    sandbox_pinduoduo.STORE = sandbox_pinduoduo.PddStore()


def _pdd_orders(count: int, *, seed: int, spread_s: float) -> list[dict[str, Any]]:
    """Orders updated over the last `spread_s` seconds (past many 30-minute slices)."""
    rng = random.Random(seed)
    now = time.time()
    made = []
    for n in range(count):
        at = now - spread_s * n / max(count - 1, 1)
        order = sandbox_pinduoduo.new_order(rng, [SKU], at)
        sandbox_pinduoduo.STORE.orders[order["order_sn"]] = order
        sandbox_pinduoduo.STORE.listed.add(order["order_sn"])
        made.append(order)
    return made


async def _notify(pdd: Douyin, messages: list[tuple[str, str, str]]) -> None:
    """As the message stream stores them: (message id, order, kind)."""
    found = [
        repository.NewNotification("pinduoduo", f"{pdd.shop_id}:{mid}", pdd.shop_id, sn, kind)
        for mid, sn, kind in messages
    ]
    async with pdd.kernel.uow() as uow:
        await repository.record_notifications(uow.session, found, received_at=uow.clock.now())
        await uow.commit()


async def test_pdd_pulls_read_every_30_minute_slice_of_the_window(
    pdd: Douyin, engine: AsyncEngine
) -> None:
    made = _pdd_orders(120, seed=6, spread_s=2 * 3600)  # four slices and more
    tally = await pdd.pull()
    assert (tally.pulled, tally.reconciled, tally.invalid) == (120, 120, 0)
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(orders.c.platform_order_id).where(orders.c.platform == "pinduoduo")
        )
    assert sorted(r[0] for r in rows) == sorted(o["order_sn"] for o in made)


async def test_pdd_notified_orders_are_fetched_and_a_refund_before_shipment_cancels(
    pdd: Douyin, engine: AsyncEngine
) -> None:
    made = kept, refunded = _pdd_orders(2, seed=7, spread_s=0)
    await _notify(pdd, [(f"{n}", o["order_sn"], "paid") for n, o in enumerate(made)])
    await pdd.fetch_all()
    refunded["refund_status"] = 4
    await _notify(pdd, [("9", refunded["order_sn"], "refund_requested")])
    await pdd.fetch_all()
    status = {}
    for order in made:
        record = await held_order(pdd.kernel, "pinduoduo", pdd.shop_id, order["order_sn"])
        status[order["order_sn"]] = record.status
    # review does not run here (no consumers): the kept order waits for it
    assert status == {kept["order_sn"]: "pending_review", refunded["order_sn"]: "cancelled"}


async def test_an_address_change_is_applied_before_review_and_rerouted_after_it(
    douyin: Douyin, engine: AsyncEngine
) -> None:
    (order,) = _put(douyin.shop_id, 1, seed=12)
    await douyin.push([_paid(order)])
    await douyin.fetch_all()
    order_id = (await held_order(douyin.kernel, "douyin", douyin.shop_id, order["order_id"])).id

    async def change_to(receiver: str, street: str, phone: str = "13912345678") -> str:
        order["post_receiver"], order["post_addr"]["detail"] = receiver, street
        order["post_tel"] = phone
        changed = sandbox_douyin.message(sandbox_douyin.TAG_ADDRESS_CHANGED, order)
        assert (await douyin.push([changed])).status_code == 200
        await douyin.fetch_all()
        async with douyin.kernel.uow() as uow:
            record = await repository.get_order(uow.session, order_id)
        assert record is not None
        return f"{record.order.receiver.name} {record.order.receiver.address.street}"

    def changes(outcome: str) -> float:
        return metric("lvyue_intake_address_changes_total", platform="douyin", outcome=outcome)

    async def set_status(status: OrderStatus) -> None:
        async with douyin.kernel.uow() as uow:
            await repository.set_status(
                uow.session, order_id=order_id, status=status, at=uow.clock.now(),
                note=f"test: {status}",
            )  # fmt: skip
            await uow.commit()

    async def announced() -> list[dict[str, Any]]:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(outbox.c.payload).where(
                    outbox.c.topic.endswith("order.receiver_changed"), outbox.c.key == str(order_id)
                )
            )
        return [row.payload for row in rows]

    before = changes("applied")
    # waiting for review (no consumers here): the order takes the new receiver
    assert await change_to("李娜", "世纪大道200号") == "李娜 花木街道世纪大道200号"
    assert changes("applied") == before + 1
    await set_status(OrderStatus.REVIEWED)  # as if reviewed since: its shipment is requested
    rerouted, refused = changes("rerouted"), changes("refused")
    # reviewed: taken, and fulfilment is told to tell the warehouse
    assert await change_to("王芳", "世纪大道300号") == "王芳 花木街道世纪大道300号"
    (event,) = await announced()
    assert event["receiver"]["name"] == "王芳"
    assert changes("rerouted") == rerouted + 1
    # a new receiver that fails review (no mobile number) is refused: the order keeps its own
    assert await change_to("赵磊", "世纪大道400号", phone="0211234") == "王芳 花木街道世纪大道300号"
    assert changes("refused") == refused + 1
    async with douyin.kernel.uow() as uow:
        record = await repository.get_order(uow.session, order_id)
    assert record is not None
    assert "refused" in (record.history[-1].note or "")
    await set_status(OrderStatus.SHIPPED)
    late = changes("too_late")
    assert await change_to("孙丽", "世纪大道500号") == "王芳 花木街道世纪大道300号"  # kept
    assert changes("too_late") == late + 1
    assert len(await announced()) == 1  # only the change that was taken
    total = await _accepted_count(douyin)
    assert total == 1  # the changes never made a second order


async def test_a_pull_finds_an_address_change_no_push_announced_and_keeps_an_operators_correction(
    douyin: Douyin,
) -> None:
    changed, corrected = await _held_new(douyin, 2, seed=13)
    first = await douyin.pull()  # both held: read again, their receivers are as the platform's
    assert (first.pulled, first.receivers_changed) == (2, 0)

    def receiver_of(record: OrderRecord) -> str:
        return f"{record.order.receiver.name} {record.order.receiver.address.street}"

    async def held(order: dict[str, Any]) -> OrderRecord:
        return await held_order(douyin.kernel, "douyin", douyin.shop_id, order["order_id"])

    # The buyer changes the receiver; the push saying so is lost: the pull finds the change.
    applied = metric("lvyue_intake_address_changes_total", platform="douyin", outcome="applied")
    changed["post_receiver"], changed["post_addr"]["detail"] = "李娜", "世纪大道200号"
    changed["update_time"] = int(time.time())
    tally = await douyin.pull()
    assert tally.receivers_changed == 1
    record = await held(changed)
    assert receiver_of(record) == "李娜 花木街道世纪大道200号"
    assert record.history[-1].note == "receiver changed on douyin"
    assert (
        metric("lvyue_intake_address_changes_total", platform="douyin", outcome="applied")
        == applied + 1
    )

    # An operator corrects the other order's receiver; the platform's stays as it was. Pulls
    # that read the order again (another field changed) keep the operator's correction.
    order_id = (await held(corrected)).id
    async with douyin.kernel.uow() as uow:
        await repository.set_status(
            uow.session, order_id=order_id, status=OrderStatus.ABNORMAL, at=uow.clock.now(),
            note="test: the address could not be parsed",
        )  # fmt: skip
        await uow.commit()
    fixed = (await held(corrected)).order.receiver.model_copy(update={"name": "张伟（已核实）"})
    await correct_order(CorrectOrder(order_id, fixed, None, "ops"), douyin.kernel.uow(),
                        douyin.review_context)  # fmt: skip
    corrected["seller_words"], corrected["update_time"] = "加急", int(time.time())
    for _ in range(2):
        assert (await douyin.pull()).receivers_changed == 0
        assert (await held(corrected)).order.receiver == fixed

    # Only the buyer's own change replaces the correction; then the order is the platform's.
    corrected["post_receiver"], corrected["update_time"] = "周杰", int(time.time())
    assert (await douyin.pull()).receivers_changed == 1
    assert (await held(corrected)).order.receiver.name == "周杰"
    assert (await douyin.pull()).receivers_changed == 0
    assert await _accepted_count(douyin) == 2  # no change made a second order


async def _accepted_count(douyin: Douyin) -> int:
    async with douyin.kernel.uow() as uow:
        found = await uow.session.scalar(
            select(func.count()).where(orders.c.shop_id == douyin.shop_id)
        )
    return int(found or 0)
