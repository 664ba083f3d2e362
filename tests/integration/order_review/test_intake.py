"""Order intake end to end in one process: signed webhook -> order row -> order.created on Kafka."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.cli.embedded import EmbeddedBroker
from lvyue.common.events.catalog import OrderCreated
from lvyue.common.events.codec import from_kafka
from lvyue.common.tables import deadlines, outbox
from lvyue.order_review.main import build_app
from lvyue.order_review.settings import OrderReviewSettings
from lvyue.order_review.tables import order_status_history, orders, webhook_deliveries
from tests.conftest import OPS_TOKEN, WEBHOOK_SECRET
from tests.support.apps import serve
from tests.support.kafka import read_topic
from tests.support.webhooks import canonical_sample, lvyue_headers, shopify_headers, shopify_sample

SHOPIFY = "/webhooks/shopify/orders"
OPS = {"Authorization": f"Bearer {OPS_TOKEN}"}


async def _counts(engine: AsyncEngine) -> dict[str, int]:
    """Rows intake writes; the outbox counted for order.created only (a 2024 sample order is
    past its review deadline at once, so the scanner adds an sla.breached event too)."""
    async with engine.connect() as conn:
        counts = {
            table.name: int(
                (await conn.execute(select(func.count()).select_from(table))).scalar_one()
            )
            for table in (orders, order_status_history, webhook_deliveries)
        }
        created = select(func.count()).where(outbox.c.event_type == "lvyue.order.created")
        counts["outbox"] = int((await conn.execute(created)).scalar_one())
        return counts


async def test_signed_shopify_webhook_becomes_an_order_and_one_order_created_event(
    make_settings: Callable[..., OrderReviewSettings],
    engine: AsyncEngine,
    broker: EmbeddedBroker,
    topic_prefix: str,
) -> None:
    body = shopify_sample()
    async with serve(build_app(make_settings())) as client:
        response = await client.post(
            SHOPIFY, content=body, headers=shopify_headers(body, WEBHOOK_SECRET)
        )
        assert response.status_code == 201, response.text
        order_id = response.json()["order_id"]
        assert response.json()["duplicate"] is False
        assert response.headers["x-request-id"]

        view = await client.get(f"/orders/{order_id}", headers=OPS)
        assert view.status_code == 200, view.text
        assert view.json()["status"] == "pending_review"
        assert [h["status"] for h in view.json()["history"]] == ["pending_review"]
        assert view.json()["order"]["platform_order_id"] == "820982911946154508"

        records = await read_topic(
            broker.bootstrap_servers, topic_prefix + "order.created", expect=1
        )
    assert len(records) == 1
    record = records[0]
    assert record.key == order_id.encode()
    headers = dict(record.headers)
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_type"] == b"lvyue.order.created"
    assert headers["ce_source"] == b"/lvyue/order-review"
    assert headers["ce_subject"] == order_id.encode()
    assert headers["ce_dataschema"] == b"urn:lvyue:event:order.created:v1"
    assert headers["content-type"] == b"application/json"
    uuid.UUID(headers["ce_id"].decode())
    event = from_kafka(record.key, record.value, record.headers)
    created = event.payload(OrderCreated)
    assert str(created.order_id) == order_id
    assert created.order.platform == "shopify"
    # ids above 2^53 never pass through a float
    assert b'"platform_order_id":"820982911946154508"' in record.value  # a string, exact
    assert await _counts(engine) == {
        "orders": 1,
        "order_status_history": 1,
        "webhook_deliveries": 1,
        "outbox": 1,
    }


async def test_the_same_delivery_fifty_times_at_once_is_one_order_and_one_event(
    make_settings: Callable[..., OrderReviewSettings],
    engine: AsyncEngine,
    broker: EmbeddedBroker,
    topic_prefix: str,
) -> None:
    body = shopify_sample()
    headers = shopify_headers(body, WEBHOOK_SECRET, webhook_id="delivery-fifty")
    async with serve(build_app(make_settings(db_pool_size=10))) as client:
        responses = await asyncio.gather(
            *(client.post(SHOPIFY, content=body, headers=headers) for _ in range(50))
        )
        records = await read_topic(
            broker.bootstrap_servers, topic_prefix + "order.created", expect=1, settle_s=2.0
        )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 49 + [201]
    assert len({r.json()["order_id"] for r in responses}) == 1
    assert len(records) == 1
    counts = await _counts(engine)
    assert counts["orders"] == 1
    assert counts["outbox"] == 1


async def test_concurrent_orders_and_repeats_are_each_stored_once(
    make_settings: Callable[..., OrderReviewSettings], engine: AsyncEngine
) -> None:
    """Group commit writes concurrent new orders in one statement: repeats inside one batch
    (the same order by other deliveries, the same delivery again) still come out once."""
    distinct = []
    for n in range(20):
        order = canonical_sample()
        order["platform_order_id"] = f"batch-{n}"
        distinct.append(json.dumps(order).encode())
    repeated = distinct[0]
    requests = [(body, str(uuid.uuid4())) for body in distinct]
    requests += [(repeated, str(uuid.uuid4())) for _ in range(10)]  # other deliveries
    requests += [(distinct[1], requests[1][1]) for _ in range(5)]  # the same delivery again
    async with serve(build_app(make_settings(db_pool_size=10))) as client:
        responses = await asyncio.gather(
            *(
                client.post(
                    "/webhooks/lvyue/orders",
                    content=body,
                    headers=lvyue_headers(body, WEBHOOK_SECRET, delivery=delivery),
                )
                for body, delivery in requests
            )
        )
    assert all(r.status_code in (200, 201) for r in responses), [r.text for r in responses]
    assert sum(r.status_code == 201 for r in responses) == 20
    ids = [r.json()["order_id"] for r in responses]
    assert len(set(ids)) == 20
    assert set(ids[20:30]) == {ids[0]}
    assert set(ids[30:]) == {ids[1]}
    counts = await _counts(engine)
    assert (counts["orders"], counts["outbox"], counts["order_status_history"]) == (20, 20, 20)
    assert counts["webhook_deliveries"] == 30  # each distinct delivery once
    async with engine.connect() as conn:
        open_reviews = await conn.execute(
            select(func.count()).where(deadlines.c.sla == "review_by_0900")
        )
        assert open_reviews.scalar_one() == 20


async def test_a_redelivery_with_a_new_delivery_id_still_maps_to_the_same_order(
    make_settings: Callable[..., OrderReviewSettings], engine: AsyncEngine
) -> None:
    body = shopify_sample()
    async with serve(build_app(make_settings())) as client:
        first = await client.post(
            SHOPIFY, content=body, headers=shopify_headers(body, WEBHOOK_SECRET)
        )
        second = await client.post(
            SHOPIFY, content=body, headers=shopify_headers(body, WEBHOOK_SECRET)
        )
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["order_id"] == second.json()["order_id"]
    assert second.json()["duplicate"] is True
    counts = await _counts(engine)
    assert (counts["orders"], counts["outbox"], counts["webhook_deliveries"]) == (1, 1, 2)


async def test_a_delivery_id_seen_before_is_a_repeat_whatever_its_body(
    make_settings: Callable[..., OrderReviewSettings], engine: AsyncEngine
) -> None:
    first_body = shopify_sample()
    other = json.loads(shopify_sample())
    other["id"] = other["id"] + 1  # another order under the same webhook id
    other_body = json.dumps(other).encode()
    async with serve(build_app(make_settings())) as client:
        first = await client.post(
            SHOPIFY,
            content=first_body,
            headers=shopify_headers(first_body, WEBHOOK_SECRET, webhook_id="webhook-once"),
        )
        again = await client.post(
            SHOPIFY,
            content=other_body,
            headers=shopify_headers(other_body, WEBHOOK_SECRET, webhook_id="webhook-once"),
        )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == {"order_id": first.json()["order_id"], "duplicate": True}
    counts = await _counts(engine)
    assert (counts["orders"], counts["outbox"], counts["webhook_deliveries"]) == (1, 1, 1)


def _canonical_body(**changes: object) -> bytes:
    data = canonical_sample()
    data.update(changes)
    return json.dumps(data).encode()


def _error_cases() -> list[tuple[str, str, bytes, dict[str, str], int, str]]:
    good = shopify_sample()
    too_big = b'{"pad": "' + b"x" * (1024 * 1024) + b'"}'
    not_json = b'{"id": 1, '
    missing_lines = _canonical_body(lines=[])
    missing_receiver = json.loads(_canonical_body())
    del missing_receiver["receiver"]
    no_receiver = json.dumps(missing_receiver).encode()
    return [
        ("bad-signature", SHOPIFY, good, shopify_headers(good, "wrong-secret"), 401, "signature"),
        (
            "missing-signature",
            SHOPIFY,
            good,
            {k: v for k, v in shopify_headers(good, WEBHOOK_SECRET).items() if "Hmac" not in k},
            401,
            "X-Shopify-Hmac-Sha256",
        ),
        (
            "unknown-platform",
            "/webhooks/amazon/orders",
            good,
            shopify_headers(good, WEBHOOK_SECRET),
            404,
            "amazon",
        ),
        (
            "malformed-json",
            SHOPIFY,
            not_json,
            shopify_headers(not_json, WEBHOOK_SECRET),
            422,
            "malformed JSON",
        ),
        (
            "schema-violation-lines",
            "/webhooks/lvyue/orders",
            missing_lines,
            lvyue_headers(missing_lines, WEBHOOK_SECRET),
            422,
            "lines",
        ),
        (
            "schema-violation-receiver",
            "/webhooks/lvyue/orders",
            no_receiver,
            lvyue_headers(no_receiver, WEBHOOK_SECRET),
            422,
            "receiver",
        ),
        ("too-large", SHOPIFY, too_big, shopify_headers(too_big, WEBHOOK_SECRET), 413, "bytes"),
        (
            "wrong-media-type",
            SHOPIFY,
            good,
            {**shopify_headers(good, WEBHOOK_SECRET), "Content-Type": "text/plain"},
            415,
            "application/json",
        ),
    ]


@pytest.mark.parametrize("case", [case[0] for case in _error_cases()])
async def test_rejected_webhook_returns_its_status_and_leaves_no_rows(
    make_settings: Callable[..., OrderReviewSettings], engine: AsyncEngine, case: str
) -> None:
    # Signed now, not at collection: the lvyue scheme refuses timestamps over 5 minutes old.
    path, body, headers, status, names = {c[0]: c[1:] for c in _error_cases()}[case]
    async with serve(build_app(make_settings())) as client:
        response = await client.post(path, content=body, headers=headers)
    assert response.status_code == status, response.text
    assert names in response.text
    assert await _counts(engine) == {
        "orders": 0,
        "order_status_history": 0,
        "webhook_deliveries": 0,
        "outbox": 0,
    }


async def test_canonical_webhook_is_accepted(
    make_settings: Callable[..., OrderReviewSettings], engine: AsyncEngine
) -> None:
    body = _canonical_body()
    async with serve(build_app(make_settings())) as client:
        response = await client.post(
            "/webhooks/lvyue/orders", content=body, headers=lvyue_headers(body, WEBHOOK_SECRET)
        )
    assert response.status_code == 201, response.text
    assert (await _counts(engine))["orders"] == 1


async def test_order_view_needs_the_ops_role(
    make_settings: Callable[..., OrderReviewSettings],
) -> None:
    settings = make_settings(api_tokens={"ops": [OPS_TOKEN], "warehouse": ["wh-token"]})
    async with serve(build_app(settings)) as client:
        some_id = uuid.uuid4()
        assert (await client.get(f"/orders/{some_id}")).status_code == 401
        wrong_role = {"Authorization": "Bearer wh-token"}
        assert (await client.get(f"/orders/{some_id}", headers=wrong_role)).status_code == 403
        missing = await client.get(f"/orders/{some_id}", headers=OPS)
        assert missing.status_code == 404
        assert str(some_id) in missing.text
        assert (await client.get("/orders/not-a-uuid", headers=OPS)).status_code == 422
