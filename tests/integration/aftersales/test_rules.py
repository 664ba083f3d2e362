"""What aftersales refuses, and that a refusal changes nothing: unknown and unshipped orders,
transitions the state machine does not allow, over-refunds, bad signatures and bad input."""

from __future__ import annotations

import json
import uuid

from tests.support.aftersales import (
    CUP,
    TEA,
    WEBHOOK_SECRET,
    Aftersales,
    money,
    order,
    webhook_body,
)
from tests.support.inventory import OPS, SRE, WAREHOUSE_STAFF
from tests.support.webhooks import lvyue_headers


async def test_an_order_aftersales_never_heard_of_is_404(aftersales: Aftersales) -> None:
    unknown = await aftersales.open(uuid.uuid4(), "refund_only", expect=404)
    by_webhook = await aftersales.webhook(webhook_body(order(), "refund_only"))

    assert "not found" in unknown["detail"]
    assert by_webhook.status_code == 404, by_webhook.text


async def test_an_order_not_shipped_yet_is_409_pointing_to_cancellation(
    aftersales: Aftersales,
) -> None:
    placed = order()
    order_id = uuid.uuid4()
    await aftersales.announce(order_id, placed, shipped=False)
    await aftersales.until_order(order_id, lambda o: o["reviewed"] and not o["shipped"])
    refused = await aftersales.open(order_id, "refund_only", expect=409)
    by_webhook = await aftersales.webhook(webhook_body(placed, "refund_only"))
    listed = await aftersales.client.get(f"/aftersales?order_id={order_id}", headers=OPS)

    assert refused["cancel"] == {
        "service": "order-review", "method": "POST", "path": f"/orders/{order_id}/cancel",
    }  # fmt: skip
    assert "has not shipped yet" in refused["detail"]
    assert by_webhook.status_code == 409
    assert listed.json()["total"] == 0


async def test_transitions_the_state_machine_does_not_allow_are_409_naming_the_state(
    aftersales: Aftersales,
) -> None:
    order_id, _ = await aftersales.shipped_order()
    refund_only = (await aftersales.open(order_id, "refund_only", amount="10.00"))["id"]
    exchange = (await aftersales.open(order_id, "exchange", amount=None))["id"]
    received = {"lines": [{"sku": TEA, "quantity": 1, "sellable": True}]}

    no_return = await aftersales.act(refund_only, "return-received", received, expect=409)
    not_yet = await aftersales.act(exchange, "return-received", received, expect=409)
    await aftersales.act(exchange, "reject", {"reason": "  "}, expect=422)  # a reason is required
    rejected = await aftersales.act(exchange, "reject", {"reason": "超过七天无理由期限"})
    rejected_again = await aftersales.act(exchange, "reject", {"reason": "again"})
    approve_rejected = await aftersales.act(exchange, "approve", expect=409)
    await aftersales.act(refund_only, "approve")
    reject_approved = await aftersales.act(refund_only, "reject", {"reason": "x"}, expect=409)
    missing = await aftersales.act(str(uuid.uuid4()), "approve", expect=404)
    unchanged = await aftersales.case(refund_only)

    assert no_return["current_state"] == "requested"
    assert "never for refund_only cases" in no_return["detail"]
    assert not_yet["current_state"] == "requested"
    assert "case is requested" in not_yet["detail"]
    assert (rejected["state"], rejected["decision_note"]) == ("rejected", "超过七天无理由期限")
    assert rejected_again == rejected
    assert approve_rejected["current_state"] == "rejected"
    assert reject_approved["current_state"] == "awaiting_refund"
    assert "not found" in missing["detail"]
    assert unchanged["state"] == "awaiting_refund"
    assert [h["state"] for h in unchanged["history"]] == ["requested", "awaiting_refund"]


async def test_refunds_above_what_was_paid_less_earlier_refunds_are_refused(
    aftersales: Aftersales,
) -> None:
    order_id, _ = await aftersales.shipped_order()  # paid 345.90
    too_much = await aftersales.open(order_id, "refund_only", amount="345.91", expect=409)
    first = (await aftersales.open(order_id, "refund_only", amount="300.00"))["id"]
    second = (await aftersales.open(order_id, "refund_only", lines=((CUP, 1),), amount="39.90"))[
        "id"
    ]
    for case_id in (first, second):
        await aftersales.act(case_id, "approve")
    await aftersales.act(first, "refund", {"reference": "R-300", "amount": "300.00"})
    over = await aftersales.act(
        second, "refund", {"reference": "R-OVER", "amount": "45.91"}, expect=409
    )
    reused = await aftersales.act(
        second, "refund", {"reference": "R-300", "amount": "10.00"}, expect=409
    )
    before = await aftersales.case(second)
    rest = await aftersales.act(second, "refund", {"reference": "R-REST", "amount": "45.90"})
    view = await aftersales.until_order(order_id, lambda o: True)

    assert too_much["rule"] == "refundable"
    assert over["rule"] == "refundable"
    assert "refundable 45.90" in over["detail"]
    assert reused["rule"] == "refund_reference"
    assert (before["state"], before["refund"]) == ("awaiting_refund", None)
    assert rest["state"] == "refunded"
    assert money(view["refunded_total"]) == money("345.90")
    assert money(view["refundable"]) == money("0.00")


async def test_amounts_and_lines_are_validated(aftersales: Aftersales) -> None:
    order_id, _ = await aftersales.shipped_order()
    for amount in ("0.00", "-1.00", "12.345", "abc"):
        await aftersales.open(order_id, "refund_only", amount=amount, expect=422)
    await aftersales.open(order_id, "refund_only", amount=None, expect=422)
    await aftersales.open(order_id, "exchange", amount="1.00", expect=422)
    not_in_order = await aftersales.open(order_id, "refund_only", lines=(("NOPE", 1),), expect=409)
    too_many = await aftersales.open(order_id, "refund_only", lines=((CUP, 2),), expect=409)
    case_id = (await aftersales.open(order_id, "return_and_refund", lines=((TEA, 1),)))["id"]
    await aftersales.act(case_id, "approve")
    more_back = await aftersales.act(
        case_id,
        "return-received",
        {"lines": [{"sku": TEA, "quantity": 2, "sellable": True}]},
        expect=409,
    )
    refund = {"reference": "R-1", "amount": "1.001"}

    assert not_in_order["rule"] == too_many["rule"] == "line_in_order"
    assert more_back["rule"] == "line_in_case"
    assert (await aftersales.case(case_id))["state"] == "awaiting_return"
    await aftersales.act(case_id, "refund", refund, expect=422)


async def test_webhooks_must_be_signed_recently_by_the_shop(aftersales: Aftersales) -> None:
    placed = order()
    raw = json.dumps(webhook_body(placed, "refund_only")).encode()
    now = int(aftersales.clock.now().timestamp())
    url = "/webhooks/lvyue/aftersales"
    wrong = await aftersales.client.post(
        url, content=raw, headers=lvyue_headers(raw, "wrong-secret", timestamp=now)
    )
    stale = await aftersales.client.post(
        url, content=raw, headers=lvyue_headers(raw, WEBHOOK_SECRET, timestamp=now - 600)
    )
    unsigned = await aftersales.client.post(
        url, content=raw, headers={"Content-Type": "application/json"}
    )
    garbage = b"{not json"
    malformed = await aftersales.client.post(
        url, content=garbage, headers=lvyue_headers(garbage, WEBHOOK_SECRET, timestamp=now)
    )

    assert [r.status_code for r in (wrong, stale, unsigned)] == [401, 401, 401]
    assert wrong.json()["detail"] == "signature mismatch"
    assert malformed.status_code == 422


async def test_roles_guard_every_endpoint(aftersales: Aftersales) -> None:
    case_id = uuid.uuid4()
    as_warehouse = await aftersales.client.post(
        f"/aftersales/{case_id}/approve", json={}, headers=WAREHOUSE_STAFF
    )
    as_ops = await aftersales.client.post(
        f"/aftersales/{case_id}/return-received",
        json={"lines": [{"sku": TEA, "quantity": 1, "sellable": True}]},
        headers=OPS,
    )
    as_sre = await aftersales.client.get("/reports/aftersales-ledger", headers=SRE)
    anonymous = await aftersales.client.get("/reports/aftersales-ledger")
    no_key = await aftersales.client.post("/aftersales", json={}, headers=OPS)

    assert (as_warehouse.status_code, as_ops.status_code) == (403, 403)
    assert (as_sre.status_code, anonymous.status_code) == (200, 401)
    assert no_key.status_code == 422
