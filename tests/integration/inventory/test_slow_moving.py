"""Rule slow_moving_7d with a manual clock: flagged after 7 days without a sale, once per streak."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.cli.embedded import EmbeddedBroker
from lvyue.common.clock import ManualClock
from lvyue.common.events import Envelope
from lvyue.common.events.catalog import SlowMoving
from lvyue.common.events.codec import from_kafka
from lvyue.common.tables import outbox
from lvyue.common.uow import UnitOfWorkFactory
from lvyue.inventory.commands import ReceiveStock, UpsertSku, receive_stock, upsert_sku
from lvyue.inventory.domain import StockPolicy
from lvyue.inventory.handlers import PolicyHandler, on_order_created, on_order_shipped
from lvyue.inventory.jobs import flag_slow_moving
from lvyue.inventory.main import build_app
from lvyue.inventory.settings import InventorySettings
from tests.support.apps import serve
from tests.support.inventory import OPS, SRE, WAREHOUSE, order_created, order_shipped
from tests.support.kafka import read_topic
from tests.support.kernel import wired

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
POLICY = StockPolicy(
    default_warehouse_id=WAREHOUSE,
    low_stock_threshold=0,
    replenish_to_multiple=2,
    slow_moving_days=7,
)


async def _handle(uow: UnitOfWorkFactory, handler: PolicyHandler, event: Envelope) -> None:
    async with uow() as unit:
        await handler(event, unit, POLICY)
        await unit.commit()


async def _stock(uow: UnitOfWorkFactory, sku: str, quantity: int) -> None:
    await upsert_sku(UpsertSku(WAREHOUSE, sku, sku, None), uow(), POLICY)
    if quantity:
        receipt = ReceiveStock(WAREHOUSE, sku, quantity, f"init-{sku}", "")
        await receive_stock(receipt, uow(), POLICY, actor="test")


async def _sell(uow: UnitOfWorkFactory, sku: str, clock: ManualClock) -> None:
    order_id = uuid.uuid4()
    await _handle(uow, on_order_created, order_created(order_id, [(sku, 1)]))
    await _handle(uow, on_order_shipped, order_shipped(order_id, [(sku, 1)], clock.now()))


async def _flag(uow: UnitOfWorkFactory) -> list[tuple[str, int]]:
    async with uow() as unit:
        flagged = await flag_slow_moving(unit, unit.clock.now(), 7)
        await unit.commit()
    return [(e.sku, e.days_without_sale) for e in flagged]


async def test_a_sku_unsold_for_seven_days_is_flagged_once_per_streak(
    inventory_engine: AsyncEngine, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    clock = ManualClock(T0)
    async with wired(inventory_engine, broker.bootstrap_servers, topic_prefix, clock) as w:
        await _stock(w.uow, "A", 10)
        await _stock(w.uow, "B", 10)
        await _stock(w.uow, "EMPTY", 0)  # nothing on hand: nothing to clear out
        clock.advance(timedelta(days=3))
        await _sell(w.uow, "B", clock)

        clock.set(T0 + timedelta(days=7) - timedelta(minutes=1))
        assert await _flag(w.uow) == []
        clock.set(T0 + timedelta(days=7))
        assert await _flag(w.uow) == [("A", 7)]  # never sold: counted from its creation
        assert await _flag(w.uow) == []  # flagged once

        clock.set(T0 + timedelta(days=10))
        assert await _flag(w.uow) == [("B", 7)]
        clock.set(T0 + timedelta(days=11))
        await _sell(w.uow, "A", clock)  # a sale ends A's streak
        clock.set(T0 + timedelta(days=17))
        assert await _flag(w.uow) == []  # B: same streak; A: 6 days
        clock.set(T0 + timedelta(days=18))
        assert await _flag(w.uow) == [("A", 7)]

        assert await w.relay.drain() >= 3
        records = await read_topic(
            broker.bootstrap_servers, topic_prefix + "inventory.slow_moving", expect=3
        )
    events = sorted((from_kafka(r.key, r.value, r.headers) for r in records), key=lambda e: e.time)
    assert [e.subject for e in events] == ["A", "B", "A"]
    payloads = [e.payload(SlowMoving) for e in events]
    assert payloads[0] == SlowMoving(
        sku="A", warehouse_id=WAREHOUSE, last_sale_at=None, days_without_sale=7
    )
    assert payloads[1].last_sale_at == T0 + timedelta(days=3)
    assert payloads[2].last_sale_at == T0 + timedelta(days=11)
    async with inventory_engine.connect() as conn:
        types = (await conn.execute(select(outbox.c.event_type))).scalars().all()
    assert (
        sorted(t for t in types if t.endswith("slow_moving")) == ["lvyue.inventory.slow_moving"] * 3
    )


async def test_the_background_job_flags_and_the_api_lists_slow_movers(
    make_inventory_settings: Callable[..., InventorySettings],
    broker: EmbeddedBroker,
    topic_prefix: str,
) -> None:
    clock = ManualClock(T0)
    settings = make_inventory_settings(consumers_enabled=False, slow_moving_check_interval_s=0.1)
    async with serve(build_app(settings, clock=clock)) as client:
        await client.put(f"/skus/{WAREHOUSE}/OLD", json={"name": "old stock"}, headers=OPS)
        receipt = {"warehouse_id": WAREHOUSE, "sku": "OLD", "quantity": 5, "reference": "R1"}
        await client.post("/stock/receipts", json=receipt, headers=OPS)
        before = await client.get("/skus/slow-moving", headers=SRE)
        assert before.json()["items"] == []

        clock.advance(timedelta(days=8))
        records = await read_topic(
            broker.bootstrap_servers, topic_prefix + "inventory.slow_moving", expect=1, settle_s=1.0
        )
        assert len(records) == 1  # the job ran many times since; flagged once
        listed = (await client.get("/skus/slow-moving", headers=SRE)).json()
    assert [s["sku"] for s in listed["items"]] == ["OLD"]
    assert listed["items"][0]["slow_moving_flagged_at"] is not None
    event = from_kafka(records[0].key, records[0].value, records[0].headers)
    assert event.payload(SlowMoving).days_without_sale == 8
