"""Operators accept findings of abnormal orders, against the real database and broker: the order
is reviewed once nothing is left open, who and why are in its history and in the events, a
repeat changes nothing, and what the policy refuses is answered with a clear status."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from lvyue.cli.embedded import EmbeddedBroker
from lvyue.common.events.catalog import FindingAccepted, OrderReviewed
from lvyue.common.events.codec import from_kafka
from lvyue.order_review.settings import OrderReviewSettings
from tests.conftest import OPS_TOKEN
from tests.integration.order_review.test_review import OPS, Harness, good_order, harness
from tests.support.kafka import read_topic

WAREHOUSE_TOKEN = "test-warehouse-token"
WAREHOUSE = {"Authorization": f"Bearer {WAREHOUSE_TOKEN}", "X-Operator": "picker-1"}
TOKENS = {"api_tokens": {"ops": [OPS_TOKEN], "warehouse": [WAREHOUSE_TOKEN]}}


async def abnormal(h: Harness, **changes: Any) -> str:
    order = good_order(**changes)
    order_id = await h.create(order)
    await h.reserve(order_id, order)
    await h.until_status(order_id, "abnormal")
    return order_id


async def accept(
    h: Harness, order_id: str, rule: str, reason: str, note: str = "", headers: Any = None
) -> Any:
    return await h.client.post(
        f"/orders/{order_id}/findings/{rule}/acceptance",
        json={"reason": reason, "note": note},
        headers=headers or OPS,
    )


async def test_an_accepted_remark_lets_the_order_through_with_who_and_why_recorded(
    make_settings: Callable[..., OrderReviewSettings], broker: EmbeddedBroker, topic_prefix: str
) -> None:
    async with harness(make_settings, broker, topic_prefix) as h:
        order_id = await abnormal(h, remarks="麻烦开发票，抬头见留言")
        accepted = await accept(h, order_id, "remark_needs_human", "remark_handled", "发票已开")
        again = await accept(h, order_id, "remark_needs_human", "remark_handled", "发票已开")
        view = await h.view(order_id)
        queue = (await h.client.get("/abnormal-orders", headers=OPS)).json()
        reviewed = await read_topic(
            broker.bootstrap_servers, topic_prefix + "order.reviewed", expect=1
        )
        events = await read_topic(
            broker.bootstrap_servers, topic_prefix + "order.finding_accepted", expect=1
        )
        metrics = (await h.client.get("/metrics")).text
    assert accepted.status_code == 201, accepted.text
    body = accepted.json()
    assert (body["status"], body["remaining"], body["accepted_by"]) == ("reviewed", [], "xiaowang")
    assert (body["reason"], body["note"], body["roles"]) == ("remark_handled", "发票已开", ["ops"])
    assert "发票" in body["detail"]
    assert again.status_code == 200  # a repeat: the first acceptance, nothing new
    assert again.json()["accepted_at"] == body["accepted_at"]
    assert view["status"] == "reviewed"
    assert [x["status"] for x in view["history"]] == [
        "pending_review", "abnormal", "abnormal", "reviewed"
    ]  # fmt: skip
    acceptance_row = view["history"][2]
    assert "accepted by xiaowang (ops): remark_handled, 发票已开" in acceptance_row["note"]
    assert acceptance_row["details"]["accepted"][0]["actor"] == "xiaowang"
    assert "fingerprint" not in acceptance_row["details"]["accepted"][0]
    assert view["history"][3]["details"]["accepted"][0]["rule"] == "remark_needs_human"
    [shown] = view["acceptances"]
    assert (shown["rule"], shown["reason"], shown["accepted_by"], shown["note"]) == (
        "remark_needs_human", "remark_handled", "xiaowang", "发票已开"
    )  # fmt: skip
    assert queue["total"] == 0
    assert len(reviewed) == len(events) == 1  # the repeat emitted nothing
    payload = from_kafka(reviewed[0].key, reviewed[0].value, reviewed[0].headers).payload(
        OrderReviewed
    )
    [why] = payload.accepted_findings
    assert (why.rule, why.reason, why.accepted_by, why.roles) == (
        "remark_needs_human", "remark_handled", "xiaowang", ("ops",)
    )  # fmt: skip
    event = from_kafka(events[0].key, events[0].value, events[0].headers).payload(FindingAccepted)
    assert (event.acceptance.note, event.remaining) == ("发票已开", ())
    assert 'lvyue_review_findings_accepted_total{rule="remark_needs_human"}' in metrics


async def test_each_finding_is_accepted_in_turn_and_the_last_one_reviews_the_order(
    make_settings: Callable[..., OrderReviewSettings], broker: EmbeddedBroker, topic_prefix: str
) -> None:
    async with harness(make_settings, broker, topic_prefix) as h:
        order_id = await abnormal(h, remarks="请开发票", paid=False)
        first = await accept(h, order_id, "remark_needs_human", "remark_handled")
        queue = (await h.client.get("/abnormal-orders", headers=OPS)).json()
        second = await accept(h, order_id, "not_paid", "payment_confirmed", "平台后台已到账")
        events = await read_topic(
            broker.bootstrap_servers, topic_prefix + "order.finding_accepted", expect=2
        )
        reviewed = await read_topic(
            broker.bootstrap_servers, topic_prefix + "order.reviewed", expect=1
        )
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "abnormal"
    assert [f["reason"] for f in first.json()["remaining"]] == ["not_paid"]
    # the queue shows what is still open; the contact deadline is untouched
    [entry] = queue["items"]
    assert [f["reason"] for f in entry["findings"]] == ["not_paid"]
    assert entry["contact_deadline_state"] == "open"
    assert second.status_code == 201, second.text
    assert second.json()["status"] == "reviewed"
    remaining = [
        from_kafka(r.key, r.value, r.headers).payload(FindingAccepted).remaining for r in events
    ]
    assert remaining == [("not_paid",), ()]
    payload = from_kafka(reviewed[0].key, reviewed[0].value, reviewed[0].headers).payload(
        OrderReviewed
    )
    assert [a.rule for a in payload.accepted_findings] == ["not_paid", "remark_needs_human"]


async def test_what_the_policy_refuses_is_answered_with_a_clear_status(
    make_settings: Callable[..., OrderReviewSettings], broker: EmbeddedBroker, topic_prefix: str
) -> None:
    async with harness(make_settings, broker, topic_prefix, **TOKENS) as h:
        remark = await abnormal(h, remarks="改地址")
        incomplete = await abnormal(
            h,
            receiver={"name": "李娜", "phone": "13800138000", "address": {
                "province": "浙江省", "city": "杭州市", "district": "", "street": "西湖区"}},
        )  # fmt: skip
        by_warehouse = await accept(
            h, remark, "remark_needs_human", "remark_handled", headers=WAREHOUSE
        )
        never = await accept(h, incomplete, "address_incomplete", "other", "looks fine")
        unknown_rule = await accept(h, remark, "looks_odd", "other", "x")
        wrong_reason = await accept(h, remark, "remark_needs_human", "payment_confirmed")
        bare_other = await accept(h, remark, "remark_needs_human", "other")
        not_there = await accept(h, remark, "not_paid", "payment_confirmed")
        missing = await accept(h, str(uuid.uuid4()), "not_paid", "payment_confirmed")
        cancelled = await h.client.post(
            f"/orders/{remark}/cancel", json={"reason": "买家取消"}, headers=OPS
        )
        after_cancel = await accept(h, remark, "remark_needs_human", "remark_handled")
        view = await h.view(remark)
    assert by_warehouse.status_code == 403, by_warehouse.text
    assert "needs role ops" in by_warehouse.text
    assert never.status_code == 403, never.text
    assert "never accepted" in never.text
    assert unknown_rule.status_code == 422, unknown_rule.text
    assert wrong_reason.status_code == 422, wrong_reason.text
    assert "does not resolve remark_needs_human" in wrong_reason.text
    assert bare_other.status_code == 422, bare_other.text
    assert not_there.status_code == 409, not_there.text
    assert "has no not_paid finding" in not_there.text
    assert "remark_needs_human" in not_there.text
    assert missing.status_code == 404, missing.text
    assert cancelled.status_code == 200, cancelled.text
    assert after_cancel.status_code == 409, after_cancel.text
    assert after_cancel.json()["current_status"] == "cancelled"
    assert [x["status"] for x in view["history"]] == ["pending_review", "abnormal", "cancelled"]


async def test_a_correction_of_what_an_accepted_rule_judged_flags_the_order_again(
    make_settings: Callable[..., OrderReviewSettings], broker: EmbeddedBroker, topic_prefix: str
) -> None:
    overrides = {"review_blacklist_phones": frozenset({"13800138000", "13900139000"})}
    receiver: dict[str, Any] = {
        "name": "李娜", "phone": "13800138000",
        "address": {"province": "浙江省", "city": "杭州市", "district": "", "street": "西湖区"},
    }  # fmt: skip
    complete = {
        "province": "浙江省",
        "city": "杭州市",
        "district": "西湖区",
        "street": "文三路 478 号",
    }
    async with harness(make_settings, broker, topic_prefix, **overrides) as h:
        same_phone = await abnormal(h, receiver=receiver)
        other_phone = await abnormal(h, receiver=receiver)
        for order_id in (same_phone, other_phone):
            accepted = await accept(h, order_id, "blacklisted", "blacklist_false_positive")
            assert accepted.json()["status"] == "abnormal", accepted.text  # address still open
        fixed = await h.client.post(
            f"/orders/{same_phone}/corrections",
            json={"receiver": {**receiver, "address": complete}},
            headers=OPS,
        )
        refixed = await h.client.post(
            f"/orders/{other_phone}/corrections",
            json={"receiver": {**receiver, "phone": "13900139000", "address": complete}},
            headers=OPS,
        )
        queue = (await h.client.get("/abnormal-orders", headers=OPS)).json()
    # the address was corrected, the accepted phone left as it was: reviewed
    assert fixed.json()["status"] == "reviewed", fixed.text
    # another blacklisted phone is a finding nobody accepted: abnormal again
    assert refixed.json()["status"] == "abnormal", refixed.text
    assert [(e["order_id"], [f["reason"] for f in e["findings"]]) for e in queue["items"]] == [
        (other_phone, ["blacklisted"])
    ]
