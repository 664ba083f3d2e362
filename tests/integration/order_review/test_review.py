"""Review end to end in one process: intake, the inventory outcome from the real broker,
the rules, the abnormal queue and its deadlines (moved clock)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from prometheus_client import REGISTRY
from pydantic import BaseModel

from lvyue.cli.embedded import EmbeddedBroker
from lvyue.common.clock import ManualClock
from lvyue.common.deadlines.forecast import shop_queue
from lvyue.common.deadlines.warehouses import WarehousePolicies
from lvyue.common.events import EventType, new_event
from lvyue.common.events.catalog import (
    INVENTORY_REJECTED,
    INVENTORY_RESERVED,
    InventoryRejected,
    InventoryReserved,
    OrderReviewed,
    ShortSku,
    StockLine,
)
from lvyue.common.events.codec import from_kafka, to_kafka
from lvyue.common.kafka import make_producer
from lvyue.order_review import repository
from lvyue.order_review.main import build_app
from lvyue.order_review.settings import OrderReviewSettings
from tests.conftest import OPS_TOKEN, WEBHOOK_SECRET
from tests.support.apps import serve
from tests.support.kafka import read_topic
from tests.support.metrics import metric
from tests.support.polling import eventually
from tests.support.publish import publish
from tests.support.webhooks import canonical_sample, lvyue_headers

OPS = {"Authorization": f"Bearer {OPS_TOKEN}", "X-Operator": "xiaowang"}


def good_order(**changes: Any) -> dict[str, Any]:
    data = canonical_sample()
    data["remarks"] = ""
    data["platform_order_id"] = uuid.uuid4().hex
    data["paid_at"] = datetime.now(UTC).isoformat()  # a fresh order: review_by_0900 still open
    data.update(changes)
    return data


@dataclass
class Harness:
    client: httpx.AsyncClient
    clock: ManualClock
    broker: EmbeddedBroker
    prefix: str

    async def create(self, order: dict[str, Any]) -> str:
        body = json.dumps(order).encode()
        response = await self.client.post(
            "/webhooks/lvyue/orders", content=body, headers=lvyue_headers(body, WEBHOOK_SECRET)
        )
        assert response.status_code == 201, response.text
        order_id: str = response.json()["order_id"]
        return order_id

    async def reserve(self, order_id: str, order: dict[str, Any]) -> None:
        lines = tuple(StockLine(sku=x["sku"], quantity=x["quantity"]) for x in order["lines"])
        payload = InventoryReserved(
            order_id=uuid.UUID(order_id), warehouse_id="WH-SH-01", lines=lines,
            reserved_at=self.clock.now(),
        )  # fmt: skip
        await publish(
            self.broker.bootstrap_servers, self.prefix, INVENTORY_RESERVED, payload,
            subject=order_id, source="/lvyue/inventory",
        )  # fmt: skip

    async def reject(self, order_id: str, *, short: str = "", unknown: str = "") -> None:
        payload = InventoryRejected(
            order_id=uuid.UUID(order_id),
            warehouse_id="WH-SH-01",
            short=(ShortSku(sku=short, requested=2, available=1),) if short else (),
            unknown_skus=(unknown,) if unknown else (),
            rejected_at=self.clock.now(),
        )
        await publish(
            self.broker.bootstrap_servers, self.prefix, INVENTORY_REJECTED, payload,
            subject=order_id, source="/lvyue/inventory",
        )  # fmt: skip

    async def view(self, order_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/orders/{order_id}", headers=OPS)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    async def until_status(self, order_id: str, status: str) -> dict[str, Any]:
        return await eventually(lambda: self.view(order_id), lambda v: v["status"] == status)


@asynccontextmanager
async def harness(
    make_settings: Callable[..., OrderReviewSettings],
    broker: EmbeddedBroker,
    prefix: str,
    **overrides: Any,
) -> AsyncIterator[Harness]:
    clock = ManualClock(datetime.now(UTC))
    async with serve(build_app(make_settings(**overrides), clock=clock)) as client:
        yield Harness(client, clock, broker, prefix)


def _breaches(sla: str) -> float:
    return metric("lvyue_sla_deadlines_breached_total", sla=sla)


async def test_order_with_reserved_stock_passing_every_check_is_reviewed(
    make_settings: Callable[..., OrderReviewSettings], broker: EmbeddedBroker, topic_prefix: str
) -> None:
    async with harness(make_settings, broker, topic_prefix) as h:
        order = good_order(urgent=True)
        order_id = await h.create(order)
        assert (await h.view(order_id))["status"] == "pending_review"
        await h.reserve(order_id, order)
        view = await h.until_status(order_id, "reviewed")
        records = await read_topic(
            broker.bootstrap_servers, topic_prefix + "order.reviewed", expect=1
        )
    assert [x["status"] for x in view["history"]] == ["pending_review", "reviewed"]
    assert len(records) == 1
    reviewed = from_kafka(records[0].key, records[0].value, records[0].headers).payload(
        OrderReviewed
    )
    assert str(reviewed.order_id) == order_id
    assert reviewed.priority == "urgent"
    assert reviewed.warehouse_id == "WH-SH-01"
    assert reviewed.promised_dispatch_at > reviewed.reviewed_at


async def test_the_promised_dispatch_time_is_the_warehouses_own_cutoff_and_calendar(
    make_settings: Callable[..., OrderReviewSettings], broker: EmbeddedBroker, topic_prefix: str
) -> None:
    """The promise in order.reviewed is the deadline fulfilment will track: same policy."""
    berlin = {"timezone": "Europe/Berlin", "country": "DE", "subdivision": "BE", "cutoff": "17:30"}
    warehouses = {"WH-SH-01": berlin}  # the warehouse `reserve` answers with
    async with harness(make_settings, broker, topic_prefix, warehouses=warehouses) as h:
        order = good_order()
        order_id = await h.create(order)
        await h.reserve(order_id, order)
        await h.until_status(order_id, "reviewed")
        records = await read_topic(
            broker.bootstrap_servers, topic_prefix + "order.reviewed", expect=1
        )
    reviewed = from_kafka(records[0].key, records[0].value, records[0].headers).payload(
        OrderReviewed
    )
    policies = WarehousePolicies.from_settings(make_settings(warehouses=warehouses))
    expected = policies.due_times("WH-SH-01", reviewed.reviewed_at).dispatch_due_at
    assert reviewed.promised_dispatch_at == expected
    local = reviewed.promised_dispatch_at.astimezone(ZoneInfo("Europe/Berlin"))
    assert (local.hour, local.minute) == (17, 30)


@pytest.mark.parametrize(
    ("changes", "outcome", "reason"),
    [
        ({"receiver": {"name": "李娜", "phone": "13800138000", "address": {
            "province": "浙江省", "city": "杭州市", "district": "", "street": "西湖区"}}},
         "reserve", "address_incomplete"),
        ({"receiver": {"name": "李娜", "phone": "12345", "address": {
            "province": "浙江省", "city": "杭州市", "district": "西湖区",
            "street": "文三路 478 号"}}}, "reserve", "phone_invalid"),
        ({"paid": False}, "reserve", "not_paid"),
        ({"remarks": "麻烦改地址到公司"}, "reserve", "remark_needs_human"),
        ({"buyer_id": "bad-buyer-1"}, "reserve", "blacklisted"),
        ({}, "short", "out_of_stock"),
        ({}, "unknown", "unknown_sku"),
    ],
    ids=["address", "phone", "not-paid", "remark", "blacklist", "out-of-stock", "unknown-sku"],
)  # fmt: skip
async def test_each_failing_check_flags_the_order_abnormal_with_its_reason(
    make_settings: Callable[..., OrderReviewSettings],
    broker: EmbeddedBroker,
    topic_prefix: str,
    changes: dict[str, Any],
    outcome: str,
    reason: str,
) -> None:
    overrides = {"review_blacklist_buyers": frozenset({"bad-buyer-1"})}
    async with harness(make_settings, broker, topic_prefix, **overrides) as h:
        order = good_order(**changes)
        order_id = await h.create(order)
        if outcome == "reserve":
            await h.reserve(order_id, order)
        elif outcome == "short":
            await h.reject(order_id, short=order["lines"][0]["sku"])
        else:
            await h.reject(order_id, unknown="NO-SUCH-SKU")
        await h.until_status(order_id, "abnormal")
        queue = (await h.client.get("/abnormal-orders", headers=OPS)).json()["items"]
        forecast = await h.client.get(
            "/deadlines/forecast", params={"sla": "abnormal_contact_2h"}, headers=OPS
        )
        abnormal = await read_topic(
            broker.bootstrap_servers, topic_prefix + "order.abnormal", expect=1
        )
    assert [e["order_id"] for e in queue] == [order_id]
    assert [f["reason"] for f in queue[0]["findings"]] == [reason]
    assert queue[0]["contact_deadline_state"] == "open"
    # the shop's customer service calls the buyer: its own queue in the breach forecast
    [contact] = [e for e in forecast.json()["items"] if e["subject"] == order_id]
    assert contact["queue"] == shop_queue(order["platform"], order["shop_id"])
    assert len(abnormal) == 1


async def test_recorded_contact_closes_the_two_hour_deadline_as_met(
    make_settings: Callable[..., OrderReviewSettings], broker: EmbeddedBroker, topic_prefix: str
) -> None:
    async with harness(make_settings, broker, topic_prefix) as h:
        order = good_order(paid=False)
        order_id = await h.create(order)
        await h.reserve(order_id, order)
        await h.until_status(order_id, "abnormal")
        h.clock.advance(timedelta(minutes=90))
        contact = await h.client.post(
            f"/orders/{order_id}/contacts",
            json={"channel": "phone", "outcome": "reached", "note": "买家确认稍后付款"},
            headers=OPS,
        )
        queue = (await h.client.get("/abnormal-orders", headers=OPS)).json()["items"]
    assert contact.status_code == 201, contact.text
    assert contact.json()["contact_deadline"] == "met"
    assert queue[0]["contact_deadline_state"] == "met"
    assert queue[0]["contacts"] == 1


async def test_no_contact_within_two_hours_is_exactly_one_breach(
    make_settings: Callable[..., OrderReviewSettings], broker: EmbeddedBroker, topic_prefix: str
) -> None:
    before = _breaches("abnormal_contact_2h")
    async with harness(make_settings, broker, topic_prefix) as h:
        order = good_order(paid=False)
        order_id = await h.create(order)
        await h.reserve(order_id, order)
        await h.until_status(order_id, "abnormal")
        h.clock.advance(timedelta(hours=2, minutes=1))
        overdue = await eventually(
            lambda: h.client.get("/abnormal-orders?overdue=true", headers=OPS),
            lambda r: (
                r.json()["total"] == 1
                and r.json()["items"][0]["contact_deadline_state"] == "breached"
            ),
        )
        breaches = await read_topic(
            broker.bootstrap_servers, topic_prefix + "sla.breached", expect=1, settle_s=1.5
        )
        metrics = (await h.client.get("/metrics")).text
    assert overdue.json()["items"][0]["order_id"] == order_id
    assert [r.key for r in breaches] == [order_id.encode()]
    assert _breaches("abnormal_contact_2h") - before == 1
    assert 'lvyue_sla_deadlines_breached_total{sla="abnormal_contact_2h"}' in metrics


async def test_order_left_unreviewed_past_nine_is_one_review_breach(
    make_settings: Callable[..., OrderReviewSettings], broker: EmbeddedBroker, topic_prefix: str
) -> None:
    before = _breaches("review_by_0900")
    async with harness(make_settings, broker, topic_prefix) as h:
        order = good_order(paid_at=h.clock.now().isoformat())
        order_id = await h.create(order)  # inventory never answers
        h.clock.advance(timedelta(hours=34))  # past 09:00 the next day, whatever the hour now
        breaches = await read_topic(
            broker.bootstrap_servers, topic_prefix + "sla.breached", expect=1, settle_s=1.5
        )
    assert [r.key for r in breaches] == [order_id.encode()]
    assert _breaches("review_by_0900") - before == 1


async def test_correcting_the_address_reviews_again(
    make_settings: Callable[..., OrderReviewSettings], broker: EmbeddedBroker, topic_prefix: str
) -> None:
    async with harness(make_settings, broker, topic_prefix) as h:
        order = good_order()
        order["receiver"]["phone"] = "12345"
        order_id = await h.create(order)
        await h.reserve(order_id, order)
        await h.until_status(order_id, "abnormal")
        receiver = {**order["receiver"], "phone": "+86 139 1234 5678"}
        fixed = await h.client.post(
            f"/orders/{order_id}/corrections", json={"receiver": receiver}, headers=OPS
        )
        view = await h.view(order_id)
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["status"] == "reviewed"
    assert view["order"]["receiver"]["phone"] == "+86 139 1234 5678"


async def test_an_operator_named_in_any_script_is_in_the_trail_and_raw_bytes_are_refused(
    make_settings: Callable[..., OrderReviewSettings], broker: EmbeddedBroker, topic_prefix: str
) -> None:
    async with harness(make_settings, broker, topic_prefix) as h:
        order_id = await h.create(good_order())

        async def cancel(operator: bytes) -> httpx.Response:
            headers = {k.encode(): v.encode() for k, v in OPS.items()} | {b"X-Operator": operator}
            body = {"reason": "买家要求"}
            return await h.client.post(f"/orders/{order_id}/cancel", json=body, headers=headers)

        raw_utf8 = await cancel("小王".encode())
        control = await cancel(b"wang%1B[2J")
        view_before = await h.view(order_id)
        cancelled = await cancel(b"%E5%B0%8F%E7%8E%8B")
        view = await h.view(order_id)
    for refused, says in ((raw_utf8, "outside ASCII"), (control, "U+001B")):
        assert refused.status_code == 422, refused.text
        [error] = refused.json()["errors"]
        assert error["loc"] == ["header", "X-Operator"]
        assert says in error["msg"]
    assert view_before["status"] != "cancelled"  # nothing was applied by a refused call
    assert cancelled.status_code == 200, cancelled.text
    assert view["history"][-1]["note"] == "cancelled by 小王: 买家要求"


async def test_transitions_the_state_does_not_allow_are_409_naming_the_state(
    make_settings: Callable[..., OrderReviewSettings], broker: EmbeddedBroker, topic_prefix: str
) -> None:
    async with harness(make_settings, broker, topic_prefix) as h:
        order = good_order()
        order_id = await h.create(order)
        await h.reserve(order_id, order)
        await h.until_status(order_id, "reviewed")
        contact = await h.client.post(
            f"/orders/{order_id}/contacts", json={"channel": "sms", "outcome": "reached"},
            headers=OPS,
        )  # fmt: skip
        cancel = await h.client.post(
            f"/orders/{order_id}/cancel", json={"reason": "买家要求"}, headers=OPS
        )
        again = await h.client.post(
            f"/orders/{order_id}/cancel", json={"reason": "买家要求"}, headers=OPS
        )
        correction = await h.client.post(
            f"/orders/{order_id}/corrections", json={"lines": order["lines"]}, headers=OPS
        )
        missing = await h.client.post(
            f"/orders/{uuid.uuid4()}/cancel", json={"reason": "x"}, headers=OPS
        )
        cancelled = await read_topic(
            broker.bootstrap_servers, topic_prefix + "order.cancelled", expect=1, settle_s=1.0
        )
    assert contact.status_code == 409
    assert contact.json()["current_status"] == "reviewed"
    assert "order is reviewed" in contact.json()["detail"]
    assert (cancel.status_code, again.status_code) == (200, 200)
    assert len(cancelled) == 1  # the repeated cancel emitted nothing
    assert correction.status_code == 409
    assert correction.json()["current_status"] == "cancelled"
    assert missing.status_code == 404


async def test_an_order_waiting_for_inventory_too_long_counts_as_stalled(
    make_settings: Callable[..., OrderReviewSettings], broker: EmbeddedBroker, topic_prefix: str
) -> None:
    def stalled() -> float:
        value = REGISTRY.get_sample_value("lvyue_orders_stalled", {"status": "pending_review"})
        return value or 0.0

    overrides = {"stalled_after_s": 600.0, "stalled_check_interval_s": 0.1}
    async with harness(make_settings, broker, topic_prefix, **overrides) as h:
        await h.create(good_order())  # inventory never answers
        await eventually(_async(stalled), lambda n: n == 0.0)
        h.clock.advance(timedelta(minutes=11))
        await eventually(_async(stalled), lambda n: n == 1.0)


def _async(probe: Callable[[], float]) -> Callable[[], Any]:
    async def call() -> float:
        return probe()

    return call


async def _answer_together(h: Harness, answers: list[tuple[EventType, BaseModel, str]]) -> None:
    """Inventory's answers produced at once, so that they reach review in few polls."""
    producer = make_producer(h.broker.bootstrap_servers, idempotent=False)
    await producer.start()
    try:
        sent = []
        for spec, payload, order_id in answers:
            envelope = new_event(
                spec, payload, subject=order_id, source="/lvyue/inventory", time=h.clock.now()
            )
            key, value, headers = to_kafka(envelope)
            sent.append(await producer.send(h.prefix + spec.topic, value, key, headers=headers))
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


def _reserved(order_id: str, order: dict[str, Any], at: datetime) -> InventoryReserved:
    lines = tuple(StockLine(sku=x["sku"], quantity=x["quantity"]) for x in order["lines"])
    return InventoryReserved(
        order_id=uuid.UUID(order_id), warehouse_id="WH-SH-01", lines=lines, reserved_at=at
    )


async def test_a_poll_of_inventory_answers_reviews_each_order_as_one_at_a_time_would(
    make_settings: Callable[..., OrderReviewSettings],
    broker: EmbeddedBroker,
    topic_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decided_together: list[int] = []  # orders per batch decision (the real one still runs)
    record_decisions = repository.record_decisions

    async def spy(session: Any, decisions: Any, *, at: datetime) -> None:
        decided_together.append(len(decisions))
        await record_decisions(session, decisions, at=at)

    monkeypatch.setattr(repository, "record_decisions", spy)
    async with harness(make_settings, broker, topic_prefix) as h:
        good = [good_order() for _ in range(8)]
        remarked = [good_order(remarks="麻烦改地址到公司") for _ in range(2)]
        short = [good_order() for _ in range(2)]
        ids = {id(o): await h.create(o) for o in good + remarked + short}
        now = h.clock.now()
        answers: list[tuple[EventType, BaseModel, str]] = [
            (INVENTORY_RESERVED, _reserved(ids[id(o)], o, now), ids[id(o)]) for o in good + remarked
        ]
        answers += [
            (INVENTORY_REJECTED, InventoryRejected(
                order_id=uuid.UUID(ids[id(o)]), warehouse_id="WH-SH-01",
                short=(ShortSku(sku=o["lines"][0]["sku"], requested=2, available=1),),
                unknown_skus=(), rejected_at=now), ids[id(o)])
            for o in short
        ]  # fmt: skip
        await _answer_together(h, answers)
        for o in good:
            await h.until_status(ids[id(o)], "reviewed")
        # one more order answered twice in the same breath: reviewed once
        twice = good_order()
        twice_id = await h.create(twice)
        await _answer_together(
            h, [(INVENTORY_RESERVED, _reserved(twice_id, twice, now), twice_id)] * 2
        )
        views = {
            order_id: await h.until_status(order_id, status)
            for order_id, status in [
                *((ids[id(o)], "reviewed") for o in good),
                *((ids[id(o)], "abnormal") for o in remarked + short),
                (twice_id, "reviewed"),
            ]
        }
        reviewed = await read_topic(
            broker.bootstrap_servers, topic_prefix + "order.reviewed", expect=9
        )
        abnormal = await read_topic(
            broker.bootstrap_servers, topic_prefix + "order.abnormal", expect=4
        )
        queue = (await h.client.get("/abnormal-orders", headers=OPS)).json()["items"]
    assert max(decided_together) > 1  # several orders decided in one go: the batch path ran
    assert len(reviewed) == 9
    assert len({r.key for r in reviewed}) == 9
    assert len(abnormal) == 4
    for view in views.values():
        # one decision each, the order answered twice too
        assert [x["status"] for x in view["history"]] == ["pending_review", view["status"]]
    assert sorted(e["order_id"] for e in queue) == sorted(ids[id(o)] for o in remarked + short)
    assert {f["reason"] for e in queue for f in e["findings"]} == {
        "remark_needs_human",
        "out_of_stock",
    }
    assert all(e["contact_deadline_state"] == "open" for e in queue)
