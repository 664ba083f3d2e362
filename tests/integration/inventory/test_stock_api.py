"""The stock API against a real database: SKUs, receipts and counts, idempotent by reference."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.inventory.domain import MAX_ON_HAND
from lvyue.inventory.main import build_app
from lvyue.inventory.settings import InventorySettings
from lvyue.inventory.tables import stock
from tests.support.apps import serve
from tests.support.inventory import (
    OPS,
    PLATFORM,
    SRE,
    WAREHOUSE,
    WAREHOUSE_STAFF,
    movements_of,
    order_created,
    publish,
    stock_of,
    wait_processed,
)

SKU = "TEA-LJ-250G"


async def test_receipt_applies_once_per_reference_and_leaves_one_movement(
    make_inventory_settings: Callable[..., InventorySettings], inventory_engine: AsyncEngine
) -> None:
    async with serve(build_app(make_inventory_settings(consumers_enabled=False))) as client:
        created = await client.put(
            f"/skus/{WAREHOUSE}/{SKU}", json={"name": "明前龙井 250g"}, headers=OPS
        )
        assert created.status_code == 201, created.text
        again = await client.put(
            f"/skus/{WAREHOUSE}/{SKU}", json={"name": "明前龙井 250g"}, headers=OPS
        )
        assert again.status_code == 200
        assert again.json()["updated_at"] == created.json()["updated_at"]  # nothing changed

        receipt = {"warehouse_id": WAREHOUSE, "sku": SKU, "quantity": 30, "reference": "GRN-1"}
        first = await client.post("/stock/receipts", json=receipt, headers=WAREHOUSE_STAFF)
        assert first.status_code == 201, first.text
        movement = first.json()
        assert movement["kind"] == "receipt"
        assert (movement["on_hand_delta"], movement["on_hand_after"]) == (30, 30)
        assert movement["reserved_after"] == 0
        assert movement["reference"] == "GRN-1"
        assert movement["actor"] == "api:warehouse"

        repeats = await asyncio.gather(
            *(client.post("/stock/receipts", json=receipt, headers=OPS) for _ in range(5))
        )
        assert [r.status_code for r in repeats] == [200] * 5
        assert {r.json()["id"] for r in repeats} == {movement["id"]}

        reused = await client.post("/stock/receipts", json={**receipt, "quantity": 31}, headers=OPS)
        assert reused.status_code == 409
        assert reused.json()["rule"] == "idempotent_reference"
        assert reused.json()["field"] == "reference"
        assert reused.json()["type"] == "urn:lvyue:problem:conflict"

        view = await client.get(f"/skus/{WAREHOUSE}/{SKU}", headers=SRE)
        assert view.status_code == 200
        assert (view.json()["on_hand"], view.json()["available"]) == (30, 30)
        trail = await client.get("/stock/movements", params={"sku": SKU}, headers=SRE)
        assert [m["id"] for m in trail.json()["items"]] == [movement["id"]]
        assert trail.json()["total"] == 1
    assert (await stock_of(inventory_engine, SKU)).on_hand == 30
    assert len(await movements_of(inventory_engine, sku=SKU)) == 1


async def test_concurrent_receipts_with_one_reference_apply_once(
    make_inventory_settings: Callable[..., InventorySettings], inventory_engine: AsyncEngine
) -> None:
    async with serve(
        build_app(make_inventory_settings(db_pool_size=10, consumers_enabled=False))
    ) as client:
        await client.put(f"/skus/{WAREHOUSE}/{SKU}", json={}, headers=OPS)
        receipt = {"warehouse_id": WAREHOUSE, "sku": SKU, "quantity": 7, "reference": "GRN-X"}
        responses = await asyncio.gather(
            *(client.post("/stock/receipts", json=receipt, headers=OPS) for _ in range(20))
        )
    assert sorted(r.status_code for r in responses) == [200] * 19 + [201]
    assert (await stock_of(inventory_engine, SKU)).on_hand == 7


async def test_adjustment_sets_on_hand_but_never_below_reserved(
    make_inventory_settings: Callable[..., InventorySettings],
    inventory_engine: AsyncEngine,
    producer: AIOKafkaProducer,
    topic_prefix: str,
) -> None:
    async with serve(build_app(make_inventory_settings())) as client:
        await client.put(f"/skus/{WAREHOUSE}/{SKU}", json={}, headers=OPS)
        await client.post(
            "/stock/receipts",
            json={"warehouse_id": WAREHOUSE, "sku": SKU, "quantity": 30, "reference": "GRN-1"},
            headers=OPS,
        )
        await publish(producer, topic_prefix, order_created(uuid.uuid4(), [(SKU, 4)]))
        await wait_processed(inventory_engine, 1)

        count = {"warehouse_id": WAREHOUSE, "sku": SKU, "reference": "COUNT-1", "reason": "cycle"}
        below = await client.post(
            "/stock/adjustments", json={**count, "counted_on_hand": 3}, headers=WAREHOUSE_STAFF
        )
        assert below.status_code == 409, below.text
        problem = below.json()
        assert (problem["rule"], problem["field"]) == ("no_oversell", "counted_on_hand")
        assert "4 units reserved" in problem["detail"]

        counted = await client.post(
            "/stock/adjustments", json={**count, "counted_on_hand": 8}, headers=WAREHOUSE_STAFF
        )
        assert counted.status_code == 201, counted.text
        assert (counted.json()["on_hand_delta"], counted.json()["on_hand_after"]) == (-22, 8)
        assert counted.json()["note"] == "cycle"
        repeat = await client.post(
            "/stock/adjustments", json={**count, "counted_on_hand": 8}, headers=OPS
        )
        assert (repeat.status_code, repeat.json()["id"]) == (200, counted.json()["id"])

        view = (await client.get(f"/skus/{WAREHOUSE}/{SKU}", headers=OPS)).json()
        assert (view["on_hand"], view["reserved"], view["available"]) == (8, 4, 4)
        trail = await client.get("/stock/movements", params={"sku": SKU}, headers=OPS)
        assert [m["kind"] for m in trail.json()["items"]] == ["adjustment", "reserve", "receipt"]
        second = await client.get(
            "/stock/movements", params={"sku": SKU, "limit": 1, "offset": 1}, headers=OPS
        )
        assert second.json()["total"] == 3
        assert [m["kind"] for m in second.json()["items"]] == ["reserve"]


async def test_unknown_sku_is_404_naming_it(
    make_inventory_settings: Callable[..., InventorySettings],
) -> None:
    async with serve(build_app(make_inventory_settings(consumers_enabled=False))) as client:
        receipt = {"warehouse_id": WAREHOUSE, "sku": "NOPE", "quantity": 1, "reference": "R"}
        missing = await client.post("/stock/receipts", json=receipt, headers=OPS)
        assert missing.status_code == 404
        assert "NOPE" in missing.text
        count = {"warehouse_id": WAREHOUSE, "sku": "NOPE", "counted_on_hand": 1}
        adjusted = await client.post(
            "/stock/adjustments", json={**count, "reference": "C", "reason": "x"}, headers=OPS
        )
        assert adjusted.status_code == 404
        view = await client.get(f"/skus/{WAREHOUSE}/NOPE", headers=OPS)
        assert view.status_code == 404
        assert "NOPE" in view.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": -3}, "quantity"),
        ({"reference": ""}, "reference"),
        ({"reference": None}, "reference"),
        ({"surprise": 1}, "surprise"),
    ],
    ids=["zero", "negative", "empty-reference", "no-reference", "unknown-field"],
)
async def test_invalid_receipt_is_422_naming_the_field(
    make_inventory_settings: Callable[..., InventorySettings],
    inventory_engine: AsyncEngine,
    body: dict[str, object],
    field: str,
) -> None:
    receipt = {"warehouse_id": WAREHOUSE, "sku": SKU, "quantity": 1, "reference": "R"}
    receipt.update(body)
    async with serve(build_app(make_inventory_settings(consumers_enabled=False))) as client:
        await client.put(f"/skus/{WAREHOUSE}/{SKU}", json={}, headers=OPS)
        response = await client.post("/stock/receipts", json=receipt, headers=OPS)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {str(part) for err in response.json()["errors"] for part in err["loc"]}
    assert await movements_of(inventory_engine) == []


async def test_writes_need_ops_or_warehouse_and_reads_allow_sre(
    make_inventory_settings: Callable[..., InventorySettings],
) -> None:
    path = f"/skus/{WAREHOUSE}/{SKU}"
    receipt = {"warehouse_id": WAREHOUSE, "sku": SKU, "quantity": 1, "reference": "R"}
    async with serve(build_app(make_inventory_settings(consumers_enabled=False))) as client:
        assert (await client.put(path, json={})).status_code == 401
        bad = {"Authorization": "Bearer not-a-token"}
        assert (await client.put(path, json={}, headers=bad)).status_code == 401
        assert (await client.put(path, json={}, headers=SRE)).status_code == 403
        assert (await client.put(path, json={}, headers=PLATFORM)).status_code == 403
        assert (await client.put(path, json={}, headers=WAREHOUSE_STAFF)).status_code == 201
        receipts = "/stock/receipts"
        assert (await client.post(receipts, json=receipt, headers=SRE)).status_code == 403
        assert (await client.post(receipts, json=receipt, headers=OPS)).status_code == 201
        for read in (path, "/skus", "/skus/slow-moving", "/stock/movements"):
            assert (await client.get(read)).status_code == 401, read
            assert (await client.get(read, headers=PLATFORM)).status_code == 403, read
            for headers in (SRE, OPS, WAREHOUSE_STAFF):
                assert (await client.get(read, headers=headers)).status_code == 200, read


async def test_sku_list_filters_by_warehouse_and_low_stock_and_pages(
    make_inventory_settings: Callable[..., InventorySettings],
) -> None:
    async with serve(
        build_app(make_inventory_settings(low_stock_threshold=5, consumers_enabled=False))
    ) as client:
        for n, quantity in enumerate((3, 10, 4)):
            sku = f"SKU-{n}"
            await client.put(f"/skus/{WAREHOUSE}/{sku}", json={"name": sku}, headers=OPS)
            receipt = {"warehouse_id": WAREHOUSE, "sku": sku, "quantity": quantity}
            await client.post(
                "/stock/receipts", json={**receipt, "reference": f"R{n}"}, headers=OPS
            )
        await client.put("/skus/WH-OTHER/SKU-9", json={"safety_threshold": 1}, headers=OPS)

        everything = (await client.get("/skus", headers=OPS)).json()
        assert everything["total"] == 4
        here = (await client.get("/skus", params={"warehouse_id": WAREHOUSE}, headers=OPS)).json()
        assert [s["sku"] for s in here["items"]] == ["SKU-0", "SKU-1", "SKU-2"]
        low = (await client.get("/skus", params={"low_stock": True}, headers=OPS)).json()
        assert [(s["sku"], s["threshold"]) for s in low["items"]] == [("SKU-0", 5), ("SKU-2", 5)]
        page = await client.get(
            "/skus", params={"warehouse_id": WAREHOUSE, "limit": 2, "offset": 2}, headers=OPS
        )
        assert [s["sku"] for s in page.json()["items"]] == ["SKU-2"]
        assert page.json()["total"] == 3
        assert (await client.get("/skus", params={"limit": 0}, headers=OPS)).status_code == 422

        # a per-SKU threshold override lifts SKU-0 out of low stock
        relaxed = await client.put(
            f"/skus/{WAREHOUSE}/SKU-0", json={"name": "SKU-0", "safety_threshold": 2}, headers=OPS
        )
        assert (relaxed.json()["threshold"], relaxed.json()["low_stock"]) == (2, False)


async def _set_on_hand(engine: AsyncEngine, sku: str, on_hand: int) -> None:
    """Stock near the column's limit: by the API that is 1,148 receipts of a million units
    after a count of a billion (what the audit did); here one UPDATE on the real database."""
    async with engine.begin() as conn:
        await conn.execute(
            update(stock)
            .where(stock.c.warehouse_id == WAREHOUSE, stock.c.sku == sku)
            .values(on_hand=on_hand)
        )


# Writes that would take on hand past the int4 column: (path, body, field). Each was a 500
# from PostgreSQL; each must be the rule's 409, naming the field, with nothing written.
OVER_THE_LIMIT = [
    ("/stock/receipts", {"quantity": 11, "reference": "GRN-OVER"}, "quantity"),
    ("/stock/receipts", {"quantity": 1_000_000, "reference": "GRN-MAX"}, "quantity"),
]


async def test_stock_on_hand_never_exceeds_the_column_and_is_refused_naming_the_rule(
    make_inventory_settings: Callable[..., InventorySettings], inventory_engine: AsyncEngine
) -> None:
    near = MAX_ON_HAND - 10
    async with serve(build_app(make_inventory_settings(consumers_enabled=False))) as client:
        await client.put(f"/skus/{WAREHOUSE}/{SKU}", json={}, headers=OPS)
        await _set_on_hand(inventory_engine, SKU, near)
        for path, body, field in OVER_THE_LIMIT:
            answer = await client.post(
                path, json={"warehouse_id": WAREHOUSE, "sku": SKU, **body}, headers=OPS
            )
            assert answer.status_code == 409, (body, answer.text)
            problem = answer.json()
            assert (problem["rule"], problem["field"]) == ("on_hand_limit", field), problem
            assert "stock on hand would exceed 2,147,483,647" in problem["detail"], problem
            assert f"{near:,} on hand" in problem["detail"], problem
        assert await movements_of(inventory_engine) == []
        assert (await stock_of(inventory_engine, SKU)).on_hand == near

        receipt = {"warehouse_id": WAREHOUSE, "sku": SKU, "reference": "GRN-FILL"}
        full = await client.post("/stock/receipts", json={**receipt, "quantity": 10}, headers=OPS)
        assert full.status_code == 201, full.text  # up to the limit itself is stock like any
        assert full.json()["on_hand_after"] == MAX_ON_HAND
        one_more = {**receipt, "quantity": 1, "reference": "GRN-ONE"}
        refused = await client.post("/stock/receipts", json=one_more, headers=OPS)
        assert (refused.status_code, refused.json()["rule"]) == (409, "on_hand_limit")
        again = await client.post("/stock/receipts", json={**receipt, "quantity": 10}, headers=OPS)
        assert again.status_code == 200  # a repeat of the applied receipt is still its answer
        count = {"warehouse_id": WAREHOUSE, "sku": SKU, "reference": "C-1", "reason": "cycle"}
        down = await client.post(
            "/stock/adjustments", json={**count, "counted_on_hand": 1_000}, headers=OPS
        )
        assert down.status_code == 201, down.text  # a count from the limit down is fine
    assert (await stock_of(inventory_engine, SKU)).on_hand == 1_000
    assert len(await movements_of(inventory_engine, sku=SKU)) == 2
