"""aftersale_response_24h and refund_48h, met and breached, on a moved clock."""

from __future__ import annotations

from datetime import timedelta

from lvyue.common.deadlines.forecast import shop_queue
from lvyue.common.events.catalog import SlaBreached
from tests.support.aftersales import Aftersales
from tests.support.inventory import OPS
from tests.support.metrics import metric
from tests.support.polling import eventually

RESPONSE, REFUND = "aftersale_response_24h", "refund_48h"


def _breaches(sla: str) -> float:
    return metric("lvyue_sla_deadlines_breached_total", sla=sla)


def _states(case: dict[str, object]) -> dict[str, str]:
    return {d["sla"]: d["state"] for d in case["deadlines"]}  # type: ignore[attr-defined]


async def test_answer_within_24h_and_refund_within_48h_meet_both_deadlines(
    aftersales: Aftersales,
) -> None:
    before = (_breaches(RESPONSE), _breaches(REFUND))
    met_before = metric("lvyue_sla_deadlines_met_total", sla=REFUND)
    order_id, _ = await aftersales.shipped_order()
    case_id = (await aftersales.open(order_id, "refund_only"))["id"]
    aftersales.clock.advance(timedelta(hours=23, minutes=50))
    await aftersales.act(case_id, "approve")
    aftersales.clock.advance(timedelta(hours=47, minutes=50))
    done = await aftersales.act(case_id, "refund", {"reference": "R-1", "amount": "168.00"})
    breaches = await aftersales.events("sla.breached", expect=0, settle_s=1.0)

    assert _states(done) == {RESPONSE: "met", REFUND: "met"}
    assert breaches == []
    assert (_breaches(RESPONSE), _breaches(REFUND)) == before
    assert metric("lvyue_sla_deadlines_met_total", sla=REFUND) == met_before + 1


async def test_late_answer_and_late_refund_are_one_breach_each(aftersales: Aftersales) -> None:
    before = (_breaches(RESPONSE), _breaches(REFUND))
    order_id, _ = await aftersales.shipped_order()
    case_id = (await aftersales.open(order_id, "refund_only"))["id"]

    aftersales.clock.advance(timedelta(hours=24, minutes=1))
    await eventually(lambda: aftersales.case(case_id), lambda c: _states(c)[RESPONSE] == "breached")
    approved = await aftersales.act(case_id, "approve")  # late: closing keeps the breach
    aftersales.clock.advance(timedelta(hours=48, minutes=1))
    await eventually(lambda: aftersales.case(case_id), lambda c: _states(c)[REFUND] == "breached")
    refunded = await aftersales.act(case_id, "refund", {"reference": "R-2", "amount": "168.00"})
    breaches = await aftersales.events("sla.breached", expect=2, settle_s=1.5)

    assert approved["state"] == "awaiting_refund"
    assert _states(refunded) == {RESPONSE: "breached", REFUND: "breached"}
    assert all(d["closed_at"] is not None for d in refunded["deadlines"])
    breached = [e.payload(SlaBreached) for e in breaches]
    assert sorted(b.sla for b in breached) == [RESPONSE, REFUND]
    assert {b.subject for b in breached} == {case_id}
    assert {b.service for b in breached} == {"aftersales"}
    assert (_breaches(RESPONSE), _breaches(REFUND)) == (before[0] + 1, before[1] + 1)


async def test_refund_deadline_of_a_return_starts_when_the_goods_arrive(
    aftersales: Aftersales,
) -> None:
    order_id, _ = await aftersales.shipped_order()
    case_id = (await aftersales.open(order_id, "return_and_refund"))["id"]
    await aftersales.act(case_id, "approve")
    aftersales.clock.advance(timedelta(days=5))  # the parcel takes its time: no refund clock yet
    received = await aftersales.act(
        case_id,
        "return-received",
        {"lines": [{"sku": "TEA-LJ-250G", "quantity": 1, "sellable": True}]},
    )
    refund = next(d for d in received["deadlines"] if d["sla"] == REFUND)
    aftersales.clock.advance(timedelta(hours=47))
    refunded = await aftersales.act(case_id, "refund", {"reference": "R-3", "amount": "168.00"})

    assert received["state"] == "awaiting_refund"
    assert refund["opened_at"] == received["return_received_at"]
    assert _states(refunded) == {RESPONSE: "met", REFUND: "met"}


async def test_a_cases_deadlines_are_in_its_shops_queue_for_the_breach_forecast(
    aftersales: Aftersales,
) -> None:
    order_id, _ = await aftersales.shipped_order()
    case = await aftersales.open(order_id, "refund_only")
    response = await aftersales.client.get(
        "/deadlines/forecast", params={"sla": RESPONSE}, headers=OPS
    )
    assert response.status_code == 200, response.text
    [entry] = [e for e in response.json()["items"] if e["subject"] == case["id"]]
    # the shop's customer service answers it, at their own pace
    assert entry["queue"] == shop_queue(case["platform"], case["shop_id"])
