"""Each after-sale flow end to end: shipped orders from the topics, intake by webhook or API,
decisions, returns and refunds, and the events they put on the broker."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.aftersales import repository
from lvyue.aftersales.tables import orders
from lvyue.common.contracts.order import CanonicalOrder, Receiver
from lvyue.common.events import new_event
from lvyue.common.events.catalog import (
    ORDER_CANCEL_AFTER_DISPATCH,
    ORDER_RECEIVER_CHANGED,
    ORDER_REVIEWED,
    AftersaleRefunded,
    CancelAfterDispatch,
    OrderReceiverChanged,
    OrderReviewed,
    Priority,
    ReplacementRequested,
    ReturnReceived,
)
from lvyue.common.events.codec import to_kafka
from lvyue.common.kafka import make_producer
from tests.support.aftersales import (
    CUP,
    TEA,
    Aftersales,
    consumed,
    money,
    order,
    until_consumed,
    webhook_body,
)
from tests.support.inventory import OPS, WAREHOUSE
from tests.support.metrics import metric
from tests.support.publish import publish


async def test_refund_only_by_webhook_is_approved_and_refunded(aftersales: Aftersales) -> None:
    order_id, placed = await aftersales.shipped_order()
    cases_before = metric(
        "lvyue_aftersales_cases_total", type="refund_only", reason="damaged_in_transit"
    )
    refunds_before = metric("lvyue_aftersales_refunds_total")
    amount_before = metric("lvyue_aftersales_refund_amount_total")

    intake = await aftersales.webhook(webhook_body(placed, "refund_only"))
    assert intake.status_code == 201, intake.text
    assert intake.json()["order_id"] == str(order_id)
    case_id = intake.json()["aftersale_id"]
    approved = await aftersales.act(case_id, "approve", {"note": "照片确认破损"})
    assert approved["state"] == "awaiting_refund"
    assert {d["sla"]: d["state"] for d in approved["deadlines"]} == {
        "aftersale_response_24h": "met",
        "refund_48h": "open",
    }
    refunded = await aftersales.act(
        case_id, "refund", {"reference": "ALIPAY-R-1", "amount": "39.90"}
    )
    events = await aftersales.events("aftersale.refunded", expect=1)

    assert refunded["state"] == "refunded"
    assert refunded["refund"]["reference"] == "ALIPAY-R-1"
    assert money(refunded["refund"]["amount"]) == money("39.90")
    assert [d["state"] for d in refunded["deadlines"]] == ["met", "met"]
    assert [h["state"] for h in refunded["history"]] == ["requested", "awaiting_refund", "refunded"]
    assert [e.subject for e in events] == [str(order_id)]
    paid = events[0].payload(AftersaleRefunded)
    assert (paid.aftersale_id, paid.amount, paid.currency) == (
        uuid.UUID(case_id), money("39.90"), "CNY",
    )  # fmt: skip
    assert (paid.platform, paid.platform_order_id) == (placed.platform, placed.platform_order_id)
    order_view = await aftersales.until_order(order_id, lambda o: True)
    assert money(order_view["refundable"]) == money("306.00")
    assert order_view["cases"] == [case_id]
    assert (
        metric("lvyue_aftersales_cases_total", type="refund_only", reason="damaged_in_transit")
        == cases_before + 1
    )
    assert metric("lvyue_aftersales_refunds_total") == refunds_before + 1
    assert metric("lvyue_aftersales_refund_amount_total") == amount_before + 39.9


async def test_return_and_refund_waits_for_the_goods_then_refunds(aftersales: Aftersales) -> None:
    order_id, _ = await aftersales.shipped_order()
    case = await aftersales.open(
        order_id, "return_and_refund", lines=((TEA, 2), (CUP, 1)), amount="345.90"
    )
    case_id = case["id"]
    assert case["state"] == "requested"
    assert [(x["sku"], x["quantity"], money(x["unit_price"])) for x in case["lines"]] == [
        (CUP, 1, money("39.90")),
        (TEA, 2, money("168.00")),
    ]
    approved = await aftersales.act(case_id, "approve")
    assert approved["state"] == "awaiting_return"
    assert [d["sla"] for d in approved["deadlines"]] == ["aftersale_response_24h"]
    early = await aftersales.act(
        case_id, "refund", {"reference": "R-EARLY", "amount": "10.00"}, expect=409
    )
    assert early["current_state"] == "awaiting_return"

    returned = await aftersales.act(
        case_id,
        "return-received",
        {"lines": [
            {"sku": TEA, "quantity": 1, "sellable": True},
            {"sku": TEA, "quantity": 1, "sellable": False},
            {"sku": CUP, "quantity": 1, "sellable": True},
        ]},
    )  # fmt: skip
    assert returned["state"] == "awaiting_refund"
    assert {d["sla"]: d["state"] for d in returned["deadlines"]}["refund_48h"] == "open"
    refunded = await aftersales.act(case_id, "refund", {"reference": "WX-R-77", "amount": "345.90"})
    received = await aftersales.events("aftersale.return_received", expect=1)
    paid = await aftersales.events("aftersale.refunded", expect=1)

    assert refunded["state"] == "refunded"
    assert [e.subject for e in received] == [str(order_id)]
    back = received[0].payload(ReturnReceived)
    assert back.aftersale_id == uuid.UUID(case_id)
    assert back.warehouse_id == WAREHOUSE
    assert [(x.sku, x.quantity, x.sellable) for x in back.lines] == [
        (TEA, 1, True), (TEA, 1, False), (CUP, 1, True),
    ]  # fmt: skip
    assert paid[0].payload(AftersaleRefunded).amount == money("345.90")


async def test_exchange_restocks_the_return_and_requests_a_replacement(
    aftersales: Aftersales, aftersales_engine: AsyncEngine
) -> None:
    order_id, placed = await aftersales.shipped_order()
    intake = await aftersales.webhook(
        webhook_body(
            placed, "exchange", reason="wrong_item", lines=[{"sku": TEA, "quantity": 1}],
            refund_amount=None,
        )
    )  # fmt: skip
    assert intake.status_code == 201, intake.text
    case_id = intake.json()["aftersale_id"]
    assert (await aftersales.act(case_id, "approve"))["state"] == "awaiting_return"
    returned_lines = {"lines": [{"sku": TEA, "quantity": 1, "sellable": True}]}
    returned = await aftersales.act(case_id, "return-received", returned_lines)
    returned_again = await aftersales.act(case_id, "return-received", returned_lines)
    no_refund = await aftersales.act(
        case_id, "refund", {"reference": "R-X", "amount": "1.00"}, expect=409
    )
    received = await aftersales.events("aftersale.return_received", expect=1)
    replacements = await aftersales.events("aftersale.replacement_requested", expect=1)

    assert returned["state"] == "awaiting_replacement"
    assert returned["replacement"] is None
    assert returned_again == returned
    assert [d["sla"] for d in returned["deadlines"]] == ["aftersale_response_24h"]
    assert no_refund["current_state"] == "awaiting_replacement"
    assert received[0].payload(ReturnReceived).lines[0].sellable is True
    assert [e.subject for e in replacements] == [str(order_id)]
    replacement = replacements[0].payload(ReplacementRequested)
    assert replacement.aftersale_id == uuid.UUID(case_id)
    assert replacement.order_id == order_id
    assert replacement.warehouse_id == WAREHOUSE
    assert replacement.receiver == placed.receiver
    assert [(x.sku, x.quantity, x.unit_price) for x in replacement.lines] == [
        (TEA, 1, money("168.00"))
    ]
    assert replacement.platform_order_id == placed.platform_order_id

    # fulfilment shipped the replacement
    shipment_id = uuid.uuid4()
    dispatched = await aftersales.dispatch_replacement(
        case_id, order_id, shipment_id=shipment_id, tracking_number="SF5550001111"
    )
    done = await aftersales.until_case(case_id, lambda c: c["state"] == "completed")

    assert done["replacement"] is not None
    assert {k: v for k, v in done["replacement"].items() if k != "dispatched_at"} == {
        "shipment_id": str(shipment_id), "carrier": "SF", "tracking_number": "SF5550001111",
    }  # fmt: skip
    assert datetime.fromisoformat(done["replacement"]["dispatched_at"]) == dispatched.dispatched_at
    assert [h["state"] for h in done["history"]] == [
        "requested", "awaiting_return", "awaiting_replacement", "completed",
    ]  # fmt: skip
    assert (done["history"][-1]["actor"], done["history"][-1]["note"]) == (
        "event:fulfilment", "replacement dispatched: SF SF5550001111",
    )  # fmt: skip
    late_refund = await aftersales.act(
        case_id, "refund", {"reference": "R-Y", "amount": "1.00"}, expect=409
    )
    assert late_refund["current_state"] == "completed"

    # the same dispatch again under a new event id: a repeat, nothing changes
    before = await consumed(aftersales_engine)
    await aftersales.dispatch_replacement(
        case_id, order_id, shipment_id=shipment_id, tracking_number="SF5550001111"
    )
    after = await until_consumed(aftersales_engine, sum(before) + 1)

    assert after == (before[0] + 1, before[1])  # handled, not dead-lettered
    again = await aftersales.case(case_id)
    assert again == done
    assert len(again["history"]) == 4


async def test_a_replacement_dispatch_no_exchange_waits_for_is_skipped_without_a_trace(
    aftersales: Aftersales, aftersales_engine: AsyncEngine
) -> None:
    order_id, _ = await aftersales.shipped_order()
    case = await aftersales.open(order_id, "exchange", amount=None)
    waiting_for_goods = await aftersales.act(case["id"], "approve")
    before = await consumed(aftersales_engine)

    unknown = uuid.uuid4()
    await aftersales.dispatch_replacement(unknown, order_id, shipment_id=uuid.uuid4())
    await aftersales.dispatch_replacement(case["id"], order_id, shipment_id=uuid.uuid4())
    after = await until_consumed(aftersales_engine, sum(before) + 2)

    # handled (the inbox has them) and skipped with a warning: retrying or parking them on the
    # dead-letter topic could not make them apply
    assert after == (before[0] + 2, before[1])
    missing = await aftersales.client.get(f"/aftersales/{unknown}", headers=OPS)
    assert missing.status_code == 404
    assert await aftersales.case(case["id"]) == waiting_for_goods
    listed = await aftersales.client.get(f"/aftersales?order_id={order_id}", headers=OPS)
    assert listed.json()["total"] == 1


async def test_repeated_requests_return_the_same_case_and_change_nothing(
    aftersales: Aftersales,
) -> None:
    order_id, placed = await aftersales.shipped_order()
    body = webhook_body(placed, "refund_only")
    first = await aftersales.webhook(body, delivery="d-1")
    again = await aftersales.webhook(body, delivery="d-1")
    redelivered = await aftersales.webhook(body, delivery="d-2")  # same platform case id
    key = str(uuid.uuid4())
    by_api = await aftersales.open(order_id, "refund_only", key=key)
    by_api_again = await aftersales.open(order_id, "refund_only", key=key, expect=200)
    case_id = first.json()["aftersale_id"]
    approved = await aftersales.act(case_id, "approve")
    approved_again = await aftersales.act(case_id, "approve")
    refund = {"reference": "R-ONCE", "amount": "39.90"}
    refunded = await aftersales.act(case_id, "refund", refund)
    refunded_again = await aftersales.act(case_id, "refund", refund)
    other_reference = await aftersales.act(
        case_id, "refund", {"reference": "R-TWICE", "amount": "39.90"}, expect=409
    )
    paid = await aftersales.events("aftersale.refunded", expect=1, settle_s=1.5)
    listed = await aftersales.client.get(
        f"/aftersales?order_id={order_id}", headers={"Authorization": "Bearer test-ops-token"}
    )

    assert (first.status_code, again.status_code, redelivered.status_code) == (201, 200, 200)
    assert again.json() == {**first.json(), "duplicate": True}
    assert redelivered.json()["aftersale_id"] == case_id
    assert by_api_again["id"] == by_api["id"] != case_id
    assert approved_again == approved
    assert refunded_again == refunded
    assert other_reference["current_state"] == "refunded"
    assert len(paid) == 1
    assert listed.json()["total"] == 2


async def test_a_poll_of_reviewed_orders_is_remembered_each_the_later_review_last(
    aftersales: Aftersales, aftersales_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    remembered_together: list[int] = []  # orders per upsert (the real one still runs)
    remember = repository.remember_reviewed

    async def spy(session: Any, reviewed: Any, *, at: datetime) -> None:
        remembered_together.append(len(reviewed))
        await remember(session, reviewed, at=at)

    monkeypatch.setattr(repository, "remember_reviewed", spy)
    placed = {uuid.uuid4(): order() for _ in range(10)}
    again = next(iter(placed))
    corrected = placed[again].model_copy(update={"platform_order_id": "CORRECTED-1"})
    await _review_together(aftersales, list(placed.items()))
    await until_consumed(aftersales_engine, len(placed))
    await _review_together(aftersales, [(again, corrected)] * 2)  # twice in one breath
    await until_consumed(aftersales_engine, len(placed) + 2)
    async with aftersales_engine.connect() as conn:
        rows = {
            row.order_id: row
            for row in await conn.execute(select(orders).where(orders.c.order_id.in_(list(placed))))
        }
    assert max(remembered_together) > 1  # several orders in one statement: the batch path ran
    assert set(rows) == set(placed)
    for order_id, canonical in placed.items():
        expected = "CORRECTED-1" if order_id == again else canonical.platform_order_id
        assert rows[order_id].platform_order_id == expected
        assert rows[order_id].warehouse_id == WAREHOUSE
        assert rows[order_id].paid_total == canonical.amounts.paid_total
        assert rows[order_id].reviewed_at is not None


async def _review_together(
    aftersales: Aftersales, reviewed: list[tuple[uuid.UUID, CanonicalOrder]]
) -> None:
    """order.reviewed for each order, produced at once so that they share polls."""
    producer = make_producer(aftersales.bootstrap, idempotent=False)
    await producer.start()
    try:
        topic = aftersales.prefix + ORDER_REVIEWED.topic
        sent = []
        for order_id, canonical in reviewed:
            payload = OrderReviewed(
                order_id=order_id, warehouse_id=WAREHOUSE, priority=Priority.NORMAL,
                promised_dispatch_at=aftersales.clock.now(),
                reviewed_at=aftersales.clock.now(), order=canonical,
            )  # fmt: skip
            envelope = new_event(
                ORDER_REVIEWED, payload, subject=str(order_id), source="/lvyue/order-review",
                time=aftersales.clock.now(),
            )  # fmt: skip
            key, value, headers = to_kafka(envelope)
            sent.append(await producer.send(topic, value, key, headers=headers))
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def test_a_platform_cancelling_a_dispatched_order_opens_one_return_case(
    aftersales: Aftersales,
) -> None:
    order_id, placed = await aftersales.shipped_order()
    cancel = CancelAfterDispatch(
        order_id=order_id, platform=placed.platform, reason="买家取消",
        requested_at=aftersales.clock.now(),
    )  # fmt: skip
    for _ in range(2):  # reported again (a redelivery, another replica): one case still
        await publish(
            aftersales.bootstrap, aftersales.prefix, ORDER_CANCEL_AFTER_DISPATCH, cancel,
            subject=str(order_id), source="/lvyue/order-review",
        )  # fmt: skip
    view = await aftersales.until_order(order_id, lambda o: len(o["cases"]) == 1)
    await asyncio.sleep(1.0)  # the repeat consumed too
    view = await aftersales.until_order(order_id, lambda o: True)
    (case_id,) = view["cases"]
    case = await aftersales.case(case_id)
    assert (case["type"], case["reason"], case["state"]) == (
        "return_and_refund", "other", "requested",
    )  # fmt: skip
    assert "cancelled on taobao after dispatch: 买家取消" in case["description"]
    assert sorted((ln["sku"], ln["quantity"]) for ln in case["lines"]) == sorted(
        (ln.sku, ln.quantity) for ln in placed.lines
    )
    assert [d["sla"] for d in case["deadlines"]] == ["aftersale_response_24h"]


async def test_a_receiver_changed_after_review_is_remembered_whichever_event_comes_first(
    aftersales: Aftersales, aftersales_engine: AsyncEngine
) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    placed, other = order(), order()
    assert placed.platform_order_id != other.platform_order_id
    moved = placed.receiver.model_copy(update={"name": "王芳"})
    at = aftersales.clock.now()

    async def change(order_id: uuid.UUID, receiver: Receiver, minutes: int) -> None:
        changed = OrderReceiverChanged(
            order_id=order_id, receiver=receiver, platform=placed.platform,
            changed_at=at + timedelta(minutes=minutes),
        )  # fmt: skip
        await publish(
            aftersales.bootstrap, aftersales.prefix, ORDER_RECEIVER_CHANGED, changed,
            subject=str(order_id), source="/lvyue/order-review",
        )  # fmt: skip

    await _review_together(aftersales, [(first, placed)])
    await until_consumed(aftersales_engine, 1)
    await change(first, moved, 5)  # after the review: taken
    await change(second, moved, 5)  # before the review: the later review keeps it
    await until_consumed(aftersales_engine, 3)
    await _review_together(aftersales, [(second, other)])
    await change(first, placed.receiver, 1)  # an older change, late: nothing
    await until_consumed(aftersales_engine, 5)
    async with aftersales_engine.connect() as conn:
        rows = await conn.execute(
            select(orders.c.order_id, orders.c.receiver, orders.c.platform_order_id).where(
                orders.c.order_id.in_([first, second])
            )
        )
        found = {row.order_id: row for row in rows}
    assert {k: v.receiver["name"] for k, v in found.items()} == {first: "王芳", second: "王芳"}
    assert found[second].platform_order_id == other.platform_order_id  # the review still counts
