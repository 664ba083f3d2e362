"""Reservations driven by order events through the real broker: all or none, never oversold."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.cli.embedded import EmbeddedBroker
from lvyue.common.events import Envelope
from lvyue.common.events.catalog import InventoryRejected, InventoryReserved, LowStock, ShortSku
from lvyue.common.events.codec import from_kafka
from lvyue.inventory.settings import InventorySettings
from tests.support.inventory import (
    OPS,
    WAREHOUSE,
    movements_of,
    order_cancelled,
    order_created,
    order_shipped,
    order_updated,
    publish,
    reservations_of,
    return_received,
    stock_of,
    stocked_inventory,
    wait_processed,
)
from tests.support.kafka import read_topic
from tests.support.metrics import metric

TEA, CUP = "TEA-LJ-250G", "CUP-GLASS-01"


async def _outcomes(broker: EmbeddedBroker, prefix: str, topic: str, expect: int) -> list[Envelope]:
    records = await read_topic(broker.bootstrap_servers, prefix + topic, expect=expect)
    return [from_kafka(r.key, r.value, r.headers) for r in records]


async def test_an_order_is_reserved_in_full_and_announced(
    make_inventory_settings: Callable[..., InventorySettings],
    inventory_engine: AsyncEngine,
    producer: AIOKafkaProducer,
    broker: EmbeddedBroker,
    topic_prefix: str,
) -> None:
    order_id = uuid.uuid4()
    before = metric("lvyue_inventory_reservations_total", outcome="reserved")
    async with stocked_inventory(make_inventory_settings(), {TEA: 10, CUP: 5}):
        # one SKU on two lines counts once, summed
        await publish(
            producer, topic_prefix, order_created(order_id, [(TEA, 3), (CUP, 2), (TEA, 1)])
        )
        events = await _outcomes(broker, topic_prefix, "inventory.reserved", 1)
    assert len(events) == 1
    reserved = events[0].payload(InventoryReserved)
    assert reserved.order_id == order_id
    assert reserved.warehouse_id == WAREHOUSE
    assert [(ln.sku, ln.quantity) for ln in reserved.lines] == [(CUP, 2), (TEA, 4)]
    assert (await stock_of(inventory_engine, TEA)).reserved == 4
    assert (await stock_of(inventory_engine, CUP)).reserved == 2
    assert await reservations_of(inventory_engine, order_id) == {
        TEA: (4, "reserved"),
        CUP: (2, "reserved"),
    }
    moves = await movements_of(inventory_engine, order_id=order_id)
    assert sorted((m.sku, m.kind, m.reserved_delta, m.on_hand_delta) for m in moves) == [
        (CUP, "reserve", 2, 0),
        (TEA, "reserve", 4, 0),
    ]
    assert all(m.actor.startswith("event:lvyue.order.created/") for m in moves)
    assert metric("lvyue_inventory_reservations_total", outcome="reserved") == before + 1


async def test_one_short_line_reserves_nothing_and_names_the_shortage(
    make_inventory_settings: Callable[..., InventorySettings],
    inventory_engine: AsyncEngine,
    producer: AIOKafkaProducer,
    broker: EmbeddedBroker,
    topic_prefix: str,
) -> None:
    order_id = uuid.uuid4()
    async with stocked_inventory(make_inventory_settings(), {TEA: 10, CUP: 1}):
        await publish(producer, topic_prefix, order_created(order_id, [(TEA, 3), (CUP, 2)]))
        events = await _outcomes(broker, topic_prefix, "inventory.rejected", 1)
        assert (
            await read_topic(
                broker.bootstrap_servers, topic_prefix + "inventory.reserved", expect=1, timeout_s=1
            )
            == []
        )
    rejected = events[0].payload(InventoryRejected)
    assert rejected.order_id == order_id
    assert rejected.short == (ShortSku(sku=CUP, requested=2, available=1),)
    assert rejected.unknown_skus == ()
    assert (await stock_of(inventory_engine, TEA)).reserved == 0
    assert (await stock_of(inventory_engine, CUP)).reserved == 0
    assert await reservations_of(inventory_engine, order_id) == {}
    assert await movements_of(inventory_engine, order_id=order_id) == []


async def test_an_unknown_sku_rejects_the_whole_order(
    make_inventory_settings: Callable[..., InventorySettings],
    inventory_engine: AsyncEngine,
    producer: AIOKafkaProducer,
    broker: EmbeddedBroker,
    topic_prefix: str,
) -> None:
    order_id = uuid.uuid4()
    async with stocked_inventory(make_inventory_settings(), {TEA: 10}):
        await publish(producer, topic_prefix, order_created(order_id, [(TEA, 1), ("GHOST-1", 1)]))
        events = await _outcomes(broker, topic_prefix, "inventory.rejected", 1)
    rejected = events[0].payload(InventoryRejected)
    assert rejected.unknown_skus == ("GHOST-1",)
    assert rejected.short == ()  # unknown is not "out of stock": review reports them apart
    assert (await stock_of(inventory_engine, TEA)).reserved == 0


async def test_cancel_releases_ship_deducts_and_a_return_restocks_only_sellable_goods(
    make_inventory_settings: Callable[..., InventorySettings],
    inventory_engine: AsyncEngine,
    producer: AIOKafkaProducer,
    topic_prefix: str,
) -> None:
    cancelled, shipped, aftersale = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    dispatched_at = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
    async with stocked_inventory(make_inventory_settings(), {TEA: 10, CUP: 5}):
        await publish(
            producer,
            topic_prefix,
            order_created(cancelled, [(TEA, 2)]),
            order_created(shipped, [(TEA, 3), (CUP, 1)]),
        )
        await wait_processed(inventory_engine, 2)
        assert (await stock_of(inventory_engine, TEA)).reserved == 5

        cancel = order_cancelled(cancelled)
        await publish(producer, topic_prefix, cancel, order_cancelled(cancelled))  # twice
        await wait_processed(inventory_engine, 4)
        assert await reservations_of(inventory_engine, cancelled) == {TEA: (2, "released")}
        tea = await stock_of(inventory_engine, TEA)
        assert (tea.on_hand, tea.reserved) == (10, 3)

        await publish(
            producer, topic_prefix, order_shipped(shipped, [(TEA, 3), (CUP, 1)], dispatched_at)
        )
        await wait_processed(inventory_engine, 5)
        assert await reservations_of(inventory_engine, shipped) == {
            TEA: (3, "deducted"),
            CUP: (1, "deducted"),
        }
        tea = await stock_of(inventory_engine, TEA)
        assert (tea.on_hand, tea.reserved, tea.last_sale_at) == (7, 0, dispatched_at)
        assert (await stock_of(inventory_engine, CUP)).on_hand == 4

        returned = return_received(shipped, [(TEA, 2, True), (CUP, 1, False)], aftersale)
        again = return_received(shipped, [(TEA, 2, True), (CUP, 1, False)], aftersale)
        await publish(producer, topic_prefix, returned, again)  # a redelivery under a new id
        await wait_processed(inventory_engine, 7)
    assert (await stock_of(inventory_engine, TEA)).on_hand == 9
    assert (await stock_of(inventory_engine, CUP)).on_hand == 4  # unsellable: noted only
    moves = await movements_of(inventory_engine, kind="restock")
    assert sorted((m.sku, m.on_hand_delta) for m in moves) == [(CUP, 0), (TEA, 2)]
    assert "unsellable" in next(m.note for m in moves if m.sku == CUP)
    releases = await movements_of(inventory_engine, kind="release")
    assert [(m.sku, m.reserved_delta) for m in releases] == [(TEA, -2)]
    deducts = await movements_of(inventory_engine, kind="deduct")
    assert sorted((m.sku, m.on_hand_delta, m.reserved_delta) for m in deducts) == [
        (CUP, -1, -1),
        (TEA, -3, -3),
    ]


async def test_an_updated_order_is_released_and_reserved_again_for_its_new_lines(
    make_inventory_settings: Callable[..., InventorySettings],
    inventory_engine: AsyncEngine,
    producer: AIOKafkaProducer,
    broker: EmbeddedBroker,
    topic_prefix: str,
) -> None:
    order_id = uuid.uuid4()
    async with stocked_inventory(make_inventory_settings(), {TEA: 5, CUP: 5}):
        await publish(producer, topic_prefix, order_created(order_id, [(TEA, 3), (CUP, 1)]))
        await wait_processed(inventory_engine, 1)
        # needs the 3 units it held already: released and reserved in one transaction
        await publish(producer, topic_prefix, order_updated(order_id, [(TEA, 5)]))
        events = await _outcomes(broker, topic_prefix, "inventory.reserved", 2)
    assert [
        [(ln.sku, ln.quantity) for ln in e.payload(InventoryReserved).lines] for e in events
    ] == [[(CUP, 1), (TEA, 3)], [(TEA, 5)]]
    assert await reservations_of(inventory_engine, order_id) == {
        TEA: (5, "reserved"),
        CUP: (1, "released"),
    }
    assert (await stock_of(inventory_engine, TEA)).reserved == 5
    assert (await stock_of(inventory_engine, CUP)).reserved == 0


async def test_events_of_one_order_arriving_out_of_order_reserve_nothing_stale(
    make_inventory_settings: Callable[..., InventorySettings],
    inventory_engine: AsyncEngine,
    producer: AIOKafkaProducer,
    broker: EmbeddedBroker,
    topic_prefix: str,
) -> None:
    """Each event type has its own topic, so Kafka orders an order's events only per topic."""
    cancelled_first, updated_first = uuid.uuid4(), uuid.uuid4()
    async with stocked_inventory(make_inventory_settings(), {TEA: 10}):
        created = order_created(cancelled_first, [(TEA, 2)])
        await publish(producer, topic_prefix, order_cancelled(cancelled_first))
        await wait_processed(inventory_engine, 1)
        await publish(producer, topic_prefix, created)  # late: the order is already cancelled

        stale = order_created(updated_first, [(TEA, 1)])  # the older version of the order
        await publish(producer, topic_prefix, order_updated(updated_first, [(TEA, 4)]))
        await wait_processed(inventory_engine, 3)
        await publish(producer, topic_prefix, stale)
        await wait_processed(inventory_engine, 4)
        events = await _outcomes(broker, topic_prefix, "inventory.reserved", 1)
    assert [e.subject for e in events] == [str(updated_first)]
    assert await reservations_of(inventory_engine, cancelled_first) == {}
    assert await reservations_of(inventory_engine, updated_first) == {TEA: (4, "reserved")}
    assert (await stock_of(inventory_engine, TEA)).reserved == 4


async def test_a_redelivered_order_created_reserves_once(
    make_inventory_settings: Callable[..., InventorySettings],
    inventory_engine: AsyncEngine,
    producer: AIOKafkaProducer,
    broker: EmbeddedBroker,
    topic_prefix: str,
) -> None:
    order_id = uuid.uuid4()
    first = order_created(order_id, [(TEA, 2)])
    async with stocked_inventory(make_inventory_settings(), {TEA: 10}):
        # the same event twice (inbox) and the same order under a new event id (reservations)
        await publish(producer, topic_prefix, first, first, order_created(order_id, [(TEA, 2)]))
        await wait_processed(inventory_engine, 2)  # the exact duplicate never reaches the inbox
        events = await _outcomes(broker, topic_prefix, "inventory.reserved", 1)
    assert len(events) == 1
    assert (await stock_of(inventory_engine, TEA)).reserved == 2
    assert len(await movements_of(inventory_engine, order_id=order_id)) == 1


async def test_low_stock_alerts_once_per_crossing_and_again_only_after_recovery(
    make_inventory_settings: Callable[..., InventorySettings],
    inventory_engine: AsyncEngine,
    producer: AIOKafkaProducer,
    broker: EmbeddedBroker,
    topic_prefix: str,
) -> None:
    before = metric("lvyue_inventory_low_stock_events_total", warehouse=WAREHOUSE)
    settings = make_inventory_settings(low_stock_threshold=50)
    async with stocked_inventory(settings, {TEA: 7}, thresholds={TEA: 5}) as client:
        steps = 0

        async def order(quantity: int) -> uuid.UUID:
            nonlocal steps
            order_id = uuid.uuid4()
            await publish(producer, topic_prefix, order_created(order_id, [(TEA, quantity)]))
            steps += 1
            await wait_processed(inventory_engine, steps)
            return order_id

        await order(2)  # available 5: not below 5
        assert (await stock_of(inventory_engine, TEA)).low_stock is False
        await order(1)  # 4: crossed, alert
        third = await order(1)  # 3: still below, no second alert
        await publish(producer, topic_prefix, order_cancelled(third))  # 4: still below
        steps += 1
        await wait_processed(inventory_engine, steps)
        assert (await stock_of(inventory_engine, TEA)).low_stock is True
        receipt = {"warehouse_id": WAREHOUSE, "sku": TEA, "quantity": 10, "reference": "GRN-2"}
        await client.post("/stock/receipts", json=receipt, headers=OPS)  # 14: recovered
        assert (await stock_of(inventory_engine, TEA)).low_stock is False
        await order(10)  # 4: crossed again, second alert
        alerts = await _outcomes(broker, topic_prefix, "inventory.low_stock", 2)
        gauge = await client.get("/metrics")
    assert [r.subject for r in alerts] == [TEA, TEA]
    first = alerts[0].payload(LowStock)
    assert first == LowStock(
        sku=TEA, warehouse_id=WAREHOUSE, available=4, threshold=5, suggested_replenishment=6
    )
    assert alerts[1].payload(LowStock).available == 4
    after = metric("lvyue_inventory_low_stock_events_total", warehouse=WAREHOUSE)
    assert after == before + 2
    assert "lvyue_inventory_low_stock_skus" in gauge.text


async def test_the_database_itself_refuses_an_oversell(
    make_inventory_settings: Callable[..., InventorySettings], inventory_engine: AsyncEngine
) -> None:
    async with stocked_inventory(make_inventory_settings(consumers_enabled=False), {TEA: 3}):
        pass
    for statement in (
        "UPDATE stock SET reserved = on_hand + 1",
        "UPDATE stock SET on_hand = -1, reserved = 0",
        "UPDATE stock SET reserved = -1",
    ):
        with pytest.raises(IntegrityError, match="ck_stock_"):
            async with inventory_engine.begin() as conn:
                await conn.execute(text(statement))
    tea = await stock_of(inventory_engine, TEA)
    assert (tea.on_hand, tea.reserved) == (3, 0)


async def test_a_poll_of_contending_orders_reserves_in_turn_all_or_none_never_oversold(
    make_inventory_settings: Callable[..., InventorySettings],
    inventory_engine: AsyncEngine,
    producer: AIOKafkaProducer,
    broker: EmbeddedBroker,
    topic_prefix: str,
) -> None:
    orders = [uuid.uuid4() for _ in range(40)]
    lines = {o: [(TEA, 2), (CUP, 1)] if n % 2 else [(TEA, 2)] for n, o in enumerate(orders)}
    unknown = uuid.uuid4()
    events = [order_created(o, lines[o]) for o in orders]
    events += [order_created(unknown, [("NO-SUCH-SKU", 1)]), order_created(orders[0], [(TEA, 2)])]
    batches_before = metric("lvyue_consumer_batch_messages_count", consumer="inventory")
    messages_before = metric("lvyue_consumer_batch_messages_sum", consumer="inventory")
    async with stocked_inventory(make_inventory_settings(), {TEA: 50, CUP: 100}):
        await publish(producer, topic_prefix, *events)  # together: they arrive in few polls
        await wait_processed(inventory_engine, len(events))
        reserved = await _outcomes(broker, topic_prefix, "inventory.reserved", 25)
        rejected = await _outcomes(broker, topic_prefix, "inventory.rejected", 16)
    batches = metric("lvyue_consumer_batch_messages_count", consumer="inventory") - batches_before
    messages = metric("lvyue_consumer_batch_messages_sum", consumer="inventory") - messages_before
    assert messages > batches  # some poll held several orders: the batch path ran

    winners = {e.payload(InventoryReserved).order_id for e in reserved}
    losers = {e.payload(InventoryRejected).order_id for e in rejected}
    # 50 TEA at 2 an order: exactly 25 orders, whatever their turn; one decision per order
    assert len(reserved) == len(winners) == 25
    assert len(rejected) == len(losers) == 16
    assert winners | losers == {*orders, unknown}
    assert not winners & losers
    tea, cup = await stock_of(inventory_engine, TEA), await stock_of(inventory_engine, CUP)
    assert (tea.on_hand, tea.reserved) == (50, 50)
    assert cup.reserved == sum(1 for o in winners if len(lines[o]) == 2)
    for order_id in winners:
        assert await reservations_of(inventory_engine, order_id) == {
            sku: (quantity, "reserved") for sku, quantity in lines[order_id]
        }
        assert len(await movements_of(inventory_engine, order_id=order_id)) == len(lines[order_id])
    for order_id in losers:
        assert await reservations_of(inventory_engine, order_id) == {}
    # the audit trail adds up: each movement's "after" follows the one before it
    trail = [m for m in await movements_of(inventory_engine, sku=TEA) if m.kind == "reserve"]
    assert [m.reserved_after for m in trail] == list(range(2, 51, 2))
