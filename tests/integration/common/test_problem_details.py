"""One error shape in every service, really served: RFC 9457 problem details
(application/problem+json: type, title, status, detail; errors for a 422; extension members
where the error names a state or rule). order-review answers each status it can (401, 403, 404,
409, 413, 415, 422; its 503 is in test_database_outage.py), the other services some each, and a
409 looks the same everywhere."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from http import HTTPStatus
from typing import Any

import httpx

from lvyue.cli.embedded import EmbeddedBroker
from lvyue.common.problems import Problem
from lvyue.common.webhooks import MAX_BODY_BYTES
from lvyue.order_review.main import build_app
from lvyue.order_review.settings import OrderReviewSettings
from tests.conftest import WEBHOOK_SECRET
from tests.support.apps import serve, service_app
from tests.support.inventory import API_TOKENS, OPS, SRE, WAREHOUSE_STAFF
from tests.support.webhooks import canonical_sample, lvyue_headers

QUIET = {"consumers_enabled": False, "background_jobs_enabled": False}
KINDS = {
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    409: "conflict",
    413: "content-too-large",
    415: "unsupported-media-type",
    422: "invalid-request",
}


def assert_problem(response: httpx.Response, status: int, says: str) -> dict[str, Any]:
    """The response is the Problem of status, its detail saying says; returns the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:lvyue:problem:{KINDS[status]}"
    assert body["title"] == HTTPStatus(status).phrase
    assert body["status"] == status
    assert says in body["detail"], body
    Problem.model_validate(body)  # the declared schema
    return body


async def _order(client: httpx.AsyncClient) -> uuid.UUID:
    sample = canonical_sample()
    sample["platform_order_id"] = f"PROBLEM-{uuid.uuid4().hex[:10]}"
    body = json.dumps(sample).encode()
    response = await client.post(
        "/webhooks/lvyue/orders", content=body, headers=lvyue_headers(body, WEBHOOK_SECRET)
    )
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["order_id"])


async def _chunks(sent: list[int], *, size: int, count: int) -> AsyncIterator[bytes]:
    for n in range(count):
        sent.append(n)
        yield b" " * size


async def test_order_review_answers_every_error_as_a_problem(
    make_settings: Callable[..., OrderReviewSettings],
) -> None:
    settings = make_settings(api_tokens=API_TOKENS, **QUIET)
    async with serve(build_app(settings)) as client:
        unauthenticated = await client.get("/abnormal-orders")
        unknown_token = await client.get("/abnormal-orders", headers={"Authorization": "Bearer x"})
        wrong_role = await client.get("/abnormal-orders", headers=WAREHOUSE_STAFF)
        missing = await client.get(f"/orders/{uuid.uuid4()}", headers=OPS)
        order_id = await _order(client)
        empty_correction = await client.post(
            f"/orders/{order_id}/corrections", json={}, headers=OPS
        )
        bad_limit = await client.get("/abnormal-orders", params={"limit": "0"}, headers=OPS)
        cancel = {"reason": "buyer asked"}
        assert (
            await client.post(f"/orders/{order_id}/cancel", json=cancel, headers=OPS)
        ).is_success
        contact = {"channel": "phone", "outcome": "reached"}
        conflict = await client.post(f"/orders/{order_id}/contacts", json=contact, headers=OPS)
        text = await client.post(
            "/webhooks/lvyue/orders", content=b"{}", headers={"Content-Type": "text/plain"}
        )
        huge = await client.post(
            "/webhooks/lvyue/orders",
            content=b" " * (MAX_BODY_BYTES + 1),
            headers={"Content-Type": "application/json"},
        )
        # Any other body too, before the token is looked at: FastAPI reads a JSON body whole
        # before the route's dependencies run. Declared, and streamed without a length.
        declared_body = await client.post(
            f"/orders/{order_id}/corrections",
            content=b" " * (settings.max_body_bytes + 1),
            headers={"Content-Type": "application/json"},
        )
        streamed_webhook = await client.post(
            "/webhooks/lvyue/orders",
            content=_chunks([], size=64 * 1024, count=64),
            headers={"Content-Type": "application/json"},
        )
        sent: list[int] = []
        streamed_body = await client.post(
            f"/orders/{order_id}/corrections",
            content=_chunks(sent, size=64 * 1024, count=64),  # 4 MiB offered
            headers={"Content-Type": "application/json"},
        )
        unsigned = await client.post("/webhooks/lvyue/orders", json=canonical_sample())

    assert_problem(unauthenticated, 401, "missing or malformed bearer token")
    assert unauthenticated.headers["www-authenticate"] == "Bearer"
    assert_problem(unknown_token, 401, "unknown token")
    assert_problem(wrong_role, 403, "role ops required")
    assert_problem(missing, 404, "not found")
    # The 422 the issue found without a type: now the declared Problem, naming the body.
    invalid = assert_problem(empty_correction, 422, "give receiver, lines or both")
    assert invalid["errors"] == [{"loc": ["body"], "msg": "give receiver, lines or both"}]
    limit = assert_problem(bad_limit, 422, "query.limit")
    assert [e["loc"] for e in limit["errors"]] == [["query", "limit"]]
    assert limit["errors"][0]["type"] == "greater_than_equal"
    assert assert_problem(conflict, 409, "cancelled")["current_status"] == "cancelled"
    assert_problem(text, 415, "application/json")
    assert_problem(huge, 413, str(MAX_BODY_BYTES))
    webhook_refusal = assert_problem(streamed_webhook, 413, f"body over {MAX_BODY_BYTES} bytes")
    assert webhook_refusal["detail"] == f"body over {MAX_BODY_BYTES} bytes"  # the webhook's own
    for too_large in (declared_body, streamed_body):
        assert_problem(too_large, 413, f"request body over {settings.max_body_bytes} bytes")
    assert len(sent) <= settings.max_body_bytes // (64 * 1024) + 2  # not read on to the end
    assert_problem(unsigned, 401, "X-Lvyue-Signature")


async def test_inventory_conflict_has_the_same_shape_with_its_rule(
    inventory_db: str, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    app = service_app("inventory", inventory_db, broker.bootstrap_servers, topic_prefix, **QUIET)
    receipt = {"warehouse_id": "WH-P", "sku": "SKU-P", "quantity": 3, "reference": "GRN-P"}
    async with serve(app) as client:
        await client.put("/skus/WH-P/SKU-P", json={}, headers=OPS)
        assert (await client.post("/stock/receipts", json=receipt, headers=OPS)).is_success
        reused = await client.post("/stock/receipts", json={**receipt, "quantity": 4}, headers=OPS)
        unknown_sku = await client.get("/skus/WH-P/NOPE", headers=SRE)
        as_sre = await client.post("/stock/receipts", json=receipt, headers=SRE)

    body = assert_problem(reused, 409, "GRN-P")
    assert (body["rule"], body["field"]) == ("idempotent_reference", "reference")
    assert set(body) == {"type", "title", "status", "detail", "rule", "field"}
    assert_problem(unknown_sku, 404, "NOPE")
    assert_problem(as_sre, 403, "role ops or warehouse required")


async def test_fulfilment_errors_are_problems(
    fulfilment_db: str, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    app = service_app("fulfilment", fulfilment_db, broker.bootstrap_servers, topic_prefix, **QUIET)
    dispatch = {
        "carrier_code": "SF",
        "tracking_number": "SF1",
        "dispatched_at": "2026-12-05T15:00:00+08:00",
    }
    async with serve(app) as client:
        missing = await client.post(
            f"/shipments/{uuid.uuid4()}/dispatch", json=dispatch, headers=WAREHOUSE_STAFF
        )
        as_ops = await client.post(
            f"/shipments/{uuid.uuid4()}/dispatch", json=dispatch, headers=OPS
        )
        naive = await client.post(
            f"/shipments/{uuid.uuid4()}/dispatch",
            json={**dispatch, "dispatched_at": "2026-12-05T15:00:00"},
            headers=WAREHOUSE_STAFF,
        )

    assert_problem(missing, 404, "not found")
    assert_problem(as_ops, 403, "role warehouse required")
    errors = assert_problem(naive, 422, "body.dispatched_at")["errors"]
    assert [e["loc"] for e in errors] == [["body", "dispatched_at"]]


async def test_aftersales_errors_are_problems(
    aftersales_db: str, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    app = service_app("aftersales", aftersales_db, broker.bootstrap_servers, topic_prefix, **QUIET)
    case = {
        "order_id": str(uuid.uuid4()),
        "type": "refund_only",
        "reason": "quality",
        "lines": [{"sku": "TEA", "quantity": 1}],
        "refund_amount": "10.00",
    }
    async with serve(app) as client:
        unknown_case = await client.get(f"/aftersales/{uuid.uuid4()}", headers=OPS)
        unknown_order = await client.post(
            "/aftersales", json=case, headers={**OPS, "Idempotency-Key": "k1"}
        )
        no_amount = await client.post(
            "/aftersales",
            json={**case, "refund_amount": None},
            headers={**OPS, "Idempotency-Key": "k2"},
        )
        unsigned = await client.post("/webhooks/lvyue/aftersales", json=case)
        raw_key = await client.post(
            "/aftersales",
            json=case,
            headers={k.encode(): v.encode() for k, v in OPS.items()}
            | {b"Idempotency-Key": "键-1".encode()},
        )

    assert_problem(unknown_case, 404, "not found")
    assert_problem(unknown_order, 404, "not found")
    assert_problem(no_amount, 422, "needs refund_amount")
    assert_problem(unsigned, 401, "X-Lvyue-Signature")
    assert_problem(raw_key, 422, "Idempotency-Key")
    assert_problem(raw_key, 422, "Idempotency-Key")
