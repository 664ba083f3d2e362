"""An exchange's replacement parcel through the real broker: held in the return's warehouse
under the after-sale id, deducted when dispatched, never announced to order review."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from structlog.testing import capture_logs

from lvyue.common.events import Envelope
from lvyue.common.events.catalog import (
    INVENTORY_REJECTED,
    INVENTORY_RESERVED,
)
from lvyue.common.tables import outbox
from lvyue.inventory.settings import InventorySettings
from lvyue.inventory.tables import order_allocations
from tests.support.fulfilment import (
    replacement_dispatched,
    replacement_requested,
    shipment_cancelled,
)
from tests.support.inventory import (
    WAREHOUSE,
    Lines,
    movements_of,
    order_created,
    publish,
    reservations_of,
    stock_of,
    stocked_inventory,
    wait_processed,
)
from tests.support.metrics import metric

TEA, CUP = "TEA-LJ-250G", "CUP-GLASS-01"
RETURNS_WH = "WH-RETURNS"  # the exchange's warehouse, not the default one
REPLACEMENTS = "lvyue_inventory_replacement_reservations_total"


def _requested(aftersale_id: uuid.UUID, order_id: uuid.UUID, lines: Lines) -> Envelope:
    return replacement_requested(
        order_id, aftersale_id, at=datetime.now(UTC), lines=lines, warehouse_id=RETURNS_WH
    )


def _dispatched(
    aftersale_id: uuid.UUID, order_id: uuid.UUID, lines: Lines, dispatched_at: datetime
) -> Envelope:
    return replacement_dispatched(
        order_id, aftersale_id, at=dispatched_at, lines=lines, warehouse_id=RETURNS_WH
    )


def _metric(outcome: str) -> float:
    return metric(REPLACEMENTS, outcome=outcome)


async def _allocation_state(engine: AsyncEngine, holder: uuid.UUID) -> str | None:
    async with engine.connect() as conn:
        query = select(order_allocations.c.state).where(order_allocations.c.order_id == holder)
        return (await conn.execute(query)).scalar_one_or_none()


async def _review_inputs(engine: AsyncEngine) -> list[tuple[str, str]]:
    """(event type, key) of every inventory.reserved / rejected the service emitted."""
    types = [INVENTORY_RESERVED.ce_type, INVENTORY_REJECTED.ce_type]
    async with engine.connect() as conn:
        query = select(outbox.c.event_type, outbox.c.key).where(outbox.c.event_type.in_(types))
        return [(r.event_type, r.key) for r in await conn.execute(query.order_by(outbox.c.seq))]


def _levels(row: Any) -> tuple[int, int]:
    return (row.on_hand, row.reserved)


async def test_a_replacement_is_held_in_its_warehouse_and_deducted_when_dispatched(
    make_inventory_settings: Callable[..., InventorySettings],
    inventory_engine: AsyncEngine,
    producer: AIOKafkaProducer,
    topic_prefix: str,
) -> None:
    order_id, aftersale_id = uuid.uuid4(), uuid.uuid4()
    dispatched_at = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    reserved_before, short_before = _metric("reserved"), _metric("short")
    stock = {(WAREHOUSE, TEA): 10, (RETURNS_WH, TEA): 5, (RETURNS_WH, CUP): 3}
    async with stocked_inventory(make_inventory_settings(), stock):
        await publish(producer, topic_prefix, order_created(order_id, [(TEA, 2)]))
        await wait_processed(inventory_engine, 1)
        requested = _requested(aftersale_id, order_id, [(TEA, 2), (CUP, 1)])
        await publish(producer, topic_prefix, requested)
        await wait_processed(inventory_engine, 2)

        assert _levels(await stock_of(inventory_engine, TEA, RETURNS_WH)) == (5, 2)
        assert _levels(await stock_of(inventory_engine, CUP, RETURNS_WH)) == (3, 1)
        assert _levels(await stock_of(inventory_engine, TEA)) == (10, 2)  # the order's own only
        assert await reservations_of(inventory_engine, aftersale_id) == {
            TEA: (2, "reserved"),
            CUP: (1, "reserved"),
        }
        assert await _allocation_state(inventory_engine, aftersale_id) == "reserved"
        # review heard of the order once; the replacement is nobody's review input
        assert await _review_inputs(inventory_engine) == [
            (INVENTORY_RESERVED.ce_type, str(order_id))
        ]

        lines = [(TEA, 2), (CUP, 1)]
        await publish(
            producer, topic_prefix, _dispatched(aftersale_id, order_id, lines, dispatched_at)
        )
        await wait_processed(inventory_engine, 3)
    tea = await stock_of(inventory_engine, TEA, RETURNS_WH)
    assert (tea.on_hand, tea.reserved, tea.last_sale_at) == (3, 0, dispatched_at)
    assert _levels(await stock_of(inventory_engine, CUP, RETURNS_WH)) == (2, 0)
    assert _levels(await stock_of(inventory_engine, TEA)) == (10, 2)
    assert await reservations_of(inventory_engine, aftersale_id) == {
        TEA: (2, "deducted"),
        CUP: (1, "deducted"),
    }
    assert await _allocation_state(inventory_engine, aftersale_id) == "shipped"
    moves = await movements_of(inventory_engine, warehouse_id=RETURNS_WH, order_id=order_id)
    assert [(m.sku, m.kind, m.on_hand_delta, m.reserved_delta) for m in moves] == [
        (CUP, "reserve", 0, 1),
        (TEA, "reserve", 0, 2),
        (CUP, "deduct", -1, -1),
        (TEA, "deduct", -2, -2),
    ]
    assert all(f"exchange replacement for order {order_id}" in m.note for m in moves[:2])
    assert all(f"shipped for order {order_id}" in m.note for m in moves[2:])
    assert all(str(aftersale_id) in m.note for m in moves)
    assert moves[0].actor == f"event:{requested.type}/{requested.id}"
    # counted after commit: read once the app has stopped
    assert (_metric("reserved"), _metric("short")) == (reserved_before + 1, short_before)


async def test_a_redelivered_replacement_request_reserves_once(
    make_inventory_settings: Callable[..., InventorySettings],
    inventory_engine: AsyncEngine,
    producer: AIOKafkaProducer,
    topic_prefix: str,
) -> None:
    order_id, aftersale_id = uuid.uuid4(), uuid.uuid4()
    reserved_before = _metric("reserved")
    first = _requested(aftersale_id, order_id, [(TEA, 2)])
    again = _requested(aftersale_id, order_id, [(TEA, 2)])  # the same case, a new event id
    async with stocked_inventory(make_inventory_settings(), {(RETURNS_WH, TEA): 10}):
        await publish(producer, topic_prefix, first, first, again)
        await wait_processed(inventory_engine, 2)  # the exact duplicate never reaches the inbox
    assert _levels(await stock_of(inventory_engine, TEA, RETURNS_WH)) == (10, 2)
    assert await reservations_of(inventory_engine, aftersale_id) == {TEA: (2, "reserved")}
    assert len(await movements_of(inventory_engine, order_id=order_id)) == 1
    assert _metric("reserved") == reserved_before + 1


async def test_a_short_replacement_holds_nothing_and_its_dispatch_deducts_nothing(
    make_inventory_settings: Callable[..., InventorySettings],
    inventory_engine: AsyncEngine,
    producer: AIOKafkaProducer,
    topic_prefix: str,
) -> None:
    order_id, aftersale_id = uuid.uuid4(), uuid.uuid4()
    reserved_before, short_before = _metric("reserved"), _metric("short")
    lines = [(TEA, 2), (CUP, 1)]
    stock = {(RETURNS_WH, TEA): 1, (RETURNS_WH, CUP): 5}
    with capture_logs() as logs:
        async with stocked_inventory(make_inventory_settings(), stock):
            await publish(producer, topic_prefix, _requested(aftersale_id, order_id, lines))
            await wait_processed(inventory_engine, 1)
            # all or none: CUP is available, but TEA is short
            assert _levels(await stock_of(inventory_engine, TEA, RETURNS_WH)) == (1, 0)
            assert _levels(await stock_of(inventory_engine, CUP, RETURNS_WH)) == (5, 0)
            assert await _allocation_state(inventory_engine, aftersale_id) == "rejected"

            dispatched = _dispatched(aftersale_id, order_id, lines, datetime.now(UTC))
            await publish(producer, topic_prefix, dispatched)
            await wait_processed(inventory_engine, 2)
    assert _levels(await stock_of(inventory_engine, TEA, RETURNS_WH)) == (1, 0)
    assert _levels(await stock_of(inventory_engine, CUP, RETURNS_WH)) == (5, 0)
    assert await reservations_of(inventory_engine, aftersale_id) == {}
    assert await movements_of(inventory_engine, warehouse_id=RETURNS_WH, kind="reserve") == []
    assert await movements_of(inventory_engine, warehouse_id=RETURNS_WH, kind="deduct") == []
    assert await _allocation_state(inventory_engine, aftersale_id) == "shipped"
    assert await _review_inputs(inventory_engine) == []
    assert (_metric("reserved"), _metric("short")) == (reserved_before, short_before + 1)
    short = [e for e in logs if e["event"] == "replacement_short"]
    assert [(e["log_level"], e["aftersale_id"], e["short_skus"]) for e in short] == [
        ("warning", str(aftersale_id), [TEA])
    ]
    assert short[0]["order_id"] == str(order_id)
    unheld = [e for e in logs if e["event"] == "replacement_shipped_without_reservation"]
    assert [(e["log_level"], e["aftersale_id"]) for e in unheld] == [("warning", str(aftersale_id))]


async def test_a_request_arriving_after_its_dispatch_reserves_nothing(
    make_inventory_settings: Callable[..., InventorySettings],
    inventory_engine: AsyncEngine,
    producer: AIOKafkaProducer,
    topic_prefix: str,
) -> None:
    """Requested and dispatched travel on different topics: Kafka does not order them."""
    order_id, aftersale_id = uuid.uuid4(), uuid.uuid4()
    reserved_before, short_before = _metric("reserved"), _metric("short")
    lines = [(TEA, 2)]
    async with stocked_inventory(make_inventory_settings(), {(RETURNS_WH, TEA): 10}):
        dispatched = _dispatched(aftersale_id, order_id, lines, datetime.now(UTC))
        await publish(producer, topic_prefix, dispatched)
        await wait_processed(inventory_engine, 1)
        assert await _allocation_state(inventory_engine, aftersale_id) == "shipped"
        await publish(producer, topic_prefix, _requested(aftersale_id, order_id, lines))
        await wait_processed(inventory_engine, 2)
    assert _levels(await stock_of(inventory_engine, TEA, RETURNS_WH)) == (10, 0)
    assert await reservations_of(inventory_engine, aftersale_id) == {}
    assert await movements_of(inventory_engine, order_id=order_id) == []
    assert await _allocation_state(inventory_engine, aftersale_id) == "shipped"
    assert (_metric("reserved"), _metric("short")) == (reserved_before, short_before)


async def test_a_cancelled_replacement_gives_its_units_back(
    make_inventory_settings: Callable[..., InventorySettings],
    inventory_engine: AsyncEngine,
    producer: AIOKafkaProducer,
    topic_prefix: str,
) -> None:
    order_id, aftersale_id, other_order = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with stocked_inventory(make_inventory_settings(), {(RETURNS_WH, TEA): 10}):
        await publish(producer, topic_prefix, _requested(aftersale_id, order_id, [(TEA, 2)]))
        await wait_processed(inventory_engine, 1)
        assert _levels(await stock_of(inventory_engine, TEA, RETURNS_WH)) == (10, 2)
        # an order's own shipment.cancelled is order.cancelled's business: nothing here
        own = shipment_cancelled(other_order, at=datetime.now(UTC), warehouse_id=RETURNS_WH)
        stopped = shipment_cancelled(
            order_id, at=datetime.now(UTC), aftersale_id=aftersale_id, warehouse_id=RETURNS_WH
        )
        await publish(producer, topic_prefix, own, stopped)
        await wait_processed(inventory_engine, 3)
        # a redelivered request (new event id) of the stopped replacement holds nothing again
        late = _requested(aftersale_id, order_id, [(TEA, 2)])
        await publish(producer, topic_prefix, late)
        await wait_processed(inventory_engine, 4)
    assert _levels(await stock_of(inventory_engine, TEA, RETURNS_WH)) == (10, 0)
    assert await reservations_of(inventory_engine, aftersale_id) == {TEA: (2, "released")}
    assert await _allocation_state(inventory_engine, aftersale_id) == "cancelled"
    assert await _allocation_state(inventory_engine, other_order) is None
    moves = await movements_of(inventory_engine, order_id=order_id)
    assert [(m.kind, m.reserved_delta) for m in moves] == [("reserve", 2), ("release", -2)]
    assert "exchange replacement cancelled (buyer)" in moves[1].note
