"""Shipments end to end in one process: order.reviewed from the real broker, the warehouse
contract on the topic, the pick list, dispatch by API or topic, deadlines with a moved clock."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.common.events.catalog import (
    OrderReviewed,
    OrderShipped,
    Priority,
    ShipmentRequested,
    SlaBreached,
)
from lvyue.common.tables import dead_letters
from lvyue.common.uow import UnitOfWork
from lvyue.fulfilment import repository
from lvyue.fulfilment.repository import ShipmentRecord
from tests.integration.fulfilment.conftest import T0, StartFulfilment
from tests.support.fulfilment import (
    WAREHOUSE,
    deadline_states,
    order_cancelled,
    order_reviewed,
    warehouse_dispatched,
)
from tests.support.inventory import OPS, PLATFORM, SRE
from tests.support.metrics import metric
from tests.support.polling import eventually

REQUESTED = "lvyue_fulfilment_shipments_requested_total"
DISPATCHES = "lvyue_fulfilment_dispatches_total"
PENDING = "lvyue_fulfilment_pending_shipments"
BREACHED = "lvyue_sla_deadlines_breached_total"


async def _pending() -> float:
    return metric(PENDING, warehouse=WAREHOUSE)


def _dispatches(on_time: str) -> float:
    return metric(DISPATCHES, warehouse=WAREHOUSE, platform="taobao", on_time=on_time)


async def test_a_reviewed_order_is_requested_dispatched_and_shipped_on_time(
    fulfilment: StartFulfilment,
) -> None:
    order_id = uuid.uuid4()
    requested_before = metric(REQUESTED, warehouse=WAREHOUSE, priority="urgent")
    on_time_before = _dispatches("true")
    async with fulfilment() as f:
        reviewed = order_reviewed(order_id, reviewed_at=T0, priority=Priority.URGENT)
        await f.publish(reviewed)
        [requested] = await f.events("shipment.requested", 1)
        shipment = await f.shipment_for(order_id)
        assert shipment["status"] == "pending"
        await eventually(_pending, lambda v: v == 1)

        f.advance(hours=2)
        response = await f.dispatch(shipment["id"], at=f.clock.now() - timedelta(minutes=5))
        assert response.status_code == 200, response.text
        [shipped] = await f.events("order.shipped", 1)
        await eventually(_pending, lambda v: v == 0)
        states = await deadline_states(f.engine, order_id)

    # the warehouse contract: CloudEvents attributes, key = order id, payload v1
    assert requested.type == "lvyue.shipment.requested"
    assert requested.dataschema == "urn:lvyue:event:shipment.requested:v1"
    assert requested.source == "/lvyue/fulfilment"
    assert requested.subject == str(order_id)
    payload = requested.payload(ShipmentRequested)
    order = reviewed.payload(OrderReviewed).order
    assert str(payload.shipment_id) == shipment["id"]
    assert (payload.order_id, payload.warehouse_id, payload.priority) == (
        order_id,
        WAREHOUSE,
        Priority.URGENT,
    )
    assert (payload.platform, payload.shop_id, payload.platform_order_id) == (
        order.platform,
        order.shop_id,
        order.platform_order_id,
    )
    assert (payload.receiver, payload.lines, payload.remarks) == (
        order.receiver,
        order.lines,
        order.remarks,
    )
    assert payload.due_at == T0.replace(hour=16)  # ready 10:00, cut-off 16:00 the same day
    assert payload.outbound_due_at == T0 + timedelta(hours=24)
    assert payload.requested_at == T0

    view = response.json()
    assert view["status"] == "dispatched"
    assert (view["carrier_code"], view["tracking_number"]) == ("SF", "SF1234567890")
    assert view["on_time"] is True
    # no platform API in these tests: the tracking sync is skipped and opens no deadline
    assert {d["sla"]: d["state"] for d in view["deadlines"]} == {
        "outbound_24h": "met",
        "dispatch_1600": "met",
    }
    assert states == {"outbound_24h": "met", "dispatch_1600": "met"}

    assert shipped.subject == str(order_id)
    sent = shipped.payload(OrderShipped)
    assert sent.warehouse_id == WAREHOUSE
    assert [(ln.sku, ln.quantity) for ln in sent.lines] == [("CUP-GLASS-01", 1), ("TEA-LJ-250G", 2)]
    assert (sent.carrier, sent.tracking_number) == ("SF", "SF1234567890")
    assert sent.dispatched_at == T0 + timedelta(hours=1, minutes=55)

    assert metric(REQUESTED, warehouse=WAREHOUSE, priority="urgent") == requested_before + 1
    assert _dispatches("true") == on_time_before + 1


async def test_a_redelivered_order_reviewed_requests_one_shipment(
    fulfilment: StartFulfilment,
) -> None:
    order_id = uuid.uuid4()
    first = order_reviewed(order_id, reviewed_at=T0)
    async with fulfilment() as f:
        # the same event twice (inbox) and the same order under a new event id (unique order)
        await f.publish(first, first, order_reviewed(order_id, reviewed_at=T0))
        await f.wait_processed(2)
        requested = await f.events("shipment.requested", 1, settle_s=1.5)
        page = await f.page(order_id=str(order_id))
        states = await deadline_states(f.engine, order_id)
    assert len(requested) == 1
    assert page["total"] == 1
    assert states == {"outbound_24h": "open", "dispatch_1600": "open"}


async def test_the_pick_list_puts_urgent_first_then_the_at_risk_then_promotion_before_normal(
    fulfilment: StartFulfilment,
) -> None:
    """At T0 (Thursday 10:00) Wednesday's 16:00 is past: those shipments are at risk, each
    costing ¥17.30 if late (Taobao: 5% of ¥345.90), and come before a promotion due Thursday."""
    day = T0 - timedelta(days=1)  # Wednesday
    plan = {  # name: (priority, ready at local time on Wednesday)
        "normal-early": (Priority.NORMAL, 9),
        "promotion-late": (Priority.PROMOTION, 17),  # after the cut-off: due Thursday
        "urgent-late": (Priority.URGENT, 17),
        "urgent-early": (Priority.URGENT, 10),  # due Wednesday 16:00
        "promotion-early": (Priority.PROMOTION, 11),
    }
    orders = {name: uuid.uuid4() for name in plan}
    other_warehouse = uuid.uuid4()
    async with fulfilment() as f:
        await f.publish(
            *(
                order_reviewed(orders[name], reviewed_at=day.replace(hour=hour), priority=priority)
                for name, (priority, hour) in plan.items()
            ),
            order_reviewed(
                other_warehouse, reviewed_at=day, priority=Priority.URGENT, warehouse_id="WH-BJ-02"
            ),
        )
        await eventually(lambda: f.page(), lambda p: p["total"] == 6)
        pick_list = await f.page(warehouse_id=WAREHOUSE, status="pending")
        second_page = await f.page(warehouse_id=WAREHOUSE, status="pending", limit=2, offset=2)
        as_sre = await f.page(headers=SRE, warehouse_id="WH-BJ-02")
        as_ops = await f.page(headers=OPS, status="dispatched")
        forbidden = await f.client.get("/shipments", headers=PLATFORM)
        anonymous = await f.client.get("/shipments")

        urgent = await f.shipment_for(orders["urgent-early"])
        assert (await f.dispatch(urgent["id"])).status_code == 200
        after_dispatch = await f.page(warehouse_id=WAREHOUSE, status="pending")
        dispatched = await f.page(warehouse_id=WAREHOUSE, status="dispatched")

    by_id = {str(order_id): name for name, order_id in orders.items()}
    expected = ["urgent-early", "urgent-late", "promotion-early", "normal-early", "promotion-late"]
    reasons = {by_id[s["order_id"]]: s["pick_reason"] for s in pick_list["items"]}
    assert reasons["urgent-late"] == "urgent order"
    assert reasons["normal-early"] == "at risk: 1080 min past due, ¥17.30 compensation if late"
    assert reasons["promotion-late"] == "promotion order"
    assert {s["late_cost"] for s in pick_list["items"]} == {"17.30"}
    assert [by_id[s["order_id"]] for s in pick_list["items"]] == expected
    assert pick_list["total"] == 5
    assert [by_id[s["order_id"]] for s in second_page["items"]] == expected[2:4]
    assert (second_page["total"], second_page["limit"], second_page["offset"]) == (5, 2, 2)
    assert [s["order_id"] for s in as_sre["items"]] == [str(other_warehouse)]
    assert as_ops["total"] == 0
    assert (forbidden.status_code, anonymous.status_code) == (403, 401)
    assert [by_id[s["order_id"]] for s in after_dispatch["items"]] == expected[1:]
    assert [by_id[s["order_id"]] for s in dispatched["items"]] == ["urgent-early"]
    assert "receiver" not in pick_list["items"][0]  # no customer data on the pick list


async def test_among_the_at_risk_the_costliest_to_miss_is_picked_first(
    fulfilment: StartFulfilment,
) -> None:
    """Both due at 16:00 today, an hour into the at-risk window: the Taobao order costs ¥17.30
    if late, the JD one has no published compensation, so Taobao's goes first although JD's
    was ready earlier; a Taobao order due tomorrow is not at risk and comes last."""
    jd, taobao, tomorrow = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with fulfilment() as f:
        await f.publish(
            order_reviewed(jd, reviewed_at=T0 - timedelta(hours=2), platform="jd"),
            order_reviewed(taobao, reviewed_at=T0 - timedelta(hours=1)),
            order_reviewed(tomorrow, reviewed_at=T0.replace(hour=17)),
        )
        await eventually(lambda: f.page(), lambda p: p["total"] == 3)
        f.clock.set(T0.replace(hour=15))  # an hour before the cut-off
        page = await f.page(warehouse_id=WAREHOUSE, status="pending")
    items = page["items"]
    assert [s["order_id"] for s in items] == [str(taobao), str(jd), str(tomorrow)]
    assert [s["late_cost"] for s in items] == ["17.30", None, "17.30"]
    assert items[1]["pick_reason"] == "at risk: due in 60 min"


async def test_repeated_dispatch_confirmations_change_nothing_and_conflicts_are_refused(
    fulfilment: StartFulfilment,
) -> None:
    order_id = uuid.uuid4()
    calls: list[tuple[uuid.UUID, str]] = []

    async def after_dispatch(uow: UnitOfWork, shipment: ShipmentRecord) -> None:
        calls.append((shipment.id, shipment.status.value))

    before = _dispatches("true")
    async with fulfilment(dispatch_hooks=[after_dispatch]) as f:
        await f.publish(order_reviewed(order_id, reviewed_at=T0))
        shipment = await f.shipment_for(order_id)
        f.advance(hours=1)
        at = f.clock.now()
        first = await f.dispatch(shipment["id"], at=at)
        f.advance(hours=3)
        again = await f.dispatch(shipment["id"], at=at)
        other_tracking = await f.dispatch(shipment["id"], at=at, tracking="SF999")
        other_carrier = await f.dispatch(shipment["id"], at=at, carrier="YTO")
        as_ops = await f.dispatch(shipment["id"], at=at, headers=OPS)
        unknown = await f.dispatch(str(uuid.uuid4()))
        future = await f.dispatch(shipment["id"], at=f.clock.now() + timedelta(hours=1))
        shipped = await f.events("order.shipped", 1, settle_s=1.5)
        view = await f.get(shipment["id"])

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    for conflict in (other_tracking, other_carrier):
        assert conflict.status_code == 409, conflict.text
        problem = conflict.json()
        assert conflict.headers["content-type"] == "application/problem+json"
        assert (problem["type"], problem["status"]) == ("urn:lvyue:problem:conflict", 409)
        assert (problem["state"], problem["tracking_number"]) == ("dispatched", "SF1234567890")
        assert "SF1234567890" in problem["detail"]
    assert as_ops.status_code == 403
    assert unknown.status_code == 404
    assert future.status_code == 200  # already dispatched with the same number: same answer
    assert view == first.json()
    assert len(shipped) == 1
    assert calls == [(uuid.UUID(shipment["id"]), "dispatched")]
    assert _dispatches("true") == before + 1


async def test_the_warehouse_can_confirm_dispatch_on_the_warehouse_dispatched_topic(
    fulfilment: StartFulfilment,
) -> None:
    order_id = uuid.uuid4()
    async with fulfilment() as f:
        await f.publish(order_reviewed(order_id, reviewed_at=T0))
        shipment = await f.shipment_for(order_id)
        shipment_id = uuid.UUID(shipment["id"])
        f.advance(hours=3)
        at = f.clock.now()
        confirmed = warehouse_dispatched(order_id, shipment_id, at=at, carrier="ZTO", tracking="Z1")
        # a duplicate delivery, a repeat under a new event id, then a conflicting one
        await f.publish(
            confirmed,
            confirmed,
            warehouse_dispatched(order_id, shipment_id, at=at, carrier="ZTO", tracking="Z1"),
            warehouse_dispatched(order_id, shipment_id, at=at, carrier="ZTO", tracking="Z2"),
        )
        view = await f.until_status(shipment["id"], "dispatched")
        shipped = await f.events("order.shipped", 1, settle_s=1.5)
        parked = await eventually(lambda: _dead_letters(f.engine), lambda rows: len(rows) == 1)

    assert (view["carrier_code"], view["tracking_number"], view["on_time"]) == ("ZTO", "Z1", True)
    assert len(shipped) == 1
    assert shipped[0].payload(OrderShipped).tracking_number == "Z1"
    topic, error = parked[0]
    assert topic.endswith("warehouse.dispatched")
    assert "already dispatched with ZTO Z1" in error


async def _dead_letters(engine: AsyncEngine) -> list[tuple[str, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(dead_letters.c.topic, dead_letters.c.error))
        return [(r.topic, r.error) for r in rows]


@pytest.mark.parametrize(
    ("late_by", "expected"),
    [
        # past 16:00 and past 24 h: the scanner breaches both before the confirmation arrives
        (timedelta(hours=25), {"dispatch_1600": "breached", "outbound_24h": "breached"}),
        # past the cut-off only: the 24 h promise is still kept
        (timedelta(hours=7), {"dispatch_1600": "breached", "outbound_24h": "met"}),
    ],
    ids=["both", "cutoff-only"],
)
async def test_a_late_dispatch_is_breached_exactly_once_and_not_on_time(
    fulfilment: StartFulfilment, late_by: timedelta, expected: dict[str, str]
) -> None:
    order_id = uuid.uuid4()
    breached_before = {sla: metric(BREACHED, sla=sla) for sla in expected}
    late_before = _dispatches("false")
    async with fulfilment() as f:
        await f.publish(order_reviewed(order_id, reviewed_at=T0))
        shipment = await f.shipment_for(order_id)
        f.advance(seconds=late_by.total_seconds())
        breached = {sla for sla, state in expected.items() if state == "breached"}
        await eventually(
            lambda: deadline_states(f.engine, order_id),
            lambda states: {s for s, state in states.items() if state == "breached"} == breached,
        )
        response = await f.dispatch(shipment["id"])
        assert response.status_code == 200, response.text
        announced = await f.events("sla.breached", len(breached), settle_s=1.5)
        states = await deadline_states(f.engine, order_id)

    assert response.json()["on_time"] is False
    assert states == expected
    per_sla = Counter(e.payload(SlaBreached).sla for e in announced)
    assert per_sla == Counter(breached)
    assert all(e.subject == str(order_id) for e in announced)
    assert {sla: metric(BREACHED, sla=sla) - breached_before[sla] for sla in expected} == {
        sla: 1.0 if state == "breached" else 0.0 for sla, state in expected.items()
    }
    assert _dispatches("false") == late_before + 1


async def test_a_poll_of_reviewed_orders_requests_each_shipment_once_and_skips_the_cancelled(
    fulfilment: StartFulfilment, monkeypatch: pytest.MonkeyPatch
) -> None:
    created_together: list[int] = []  # shipments per batch insert (the real one still runs)
    insert = repository.insert_order_shipments

    async def spy(session: Any, news: Any, *, at: datetime) -> list[ShipmentRecord]:
        created_together.append(len(news))
        return await insert(session, news, at=at)

    monkeypatch.setattr(repository, "insert_order_shipments", spy)
    orders = [uuid.uuid4() for _ in range(12)]
    cancelled = orders[5]
    async with fulfilment() as f:
        await f.publish(order_cancelled(cancelled, at=T0))
        await f.wait_processed(1)
        await f.publish(*(order_reviewed(o, reviewed_at=T0) for o in orders))
        await f.wait_processed(1 + len(orders))
        requested = await f.events("shipment.requested", 11)
        states = {o: await deadline_states(f.engine, o) for o in orders}
    assert max(created_together) > 1  # several shipments in one go: the batch path ran
    assert Counter(e.payload(ShipmentRequested).order_id for e in requested) == Counter(
        {o: 1 for o in orders if o != cancelled}
    )
    for order_id, by_sla in states.items():
        expected = (
            {} if order_id == cancelled else {"outbound_24h": "open", "dispatch_1600": "open"}
        )
        assert by_sla == expected, order_id
