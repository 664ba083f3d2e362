"""Inventory test helpers: settings against the test database and broker, and order events."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.common.contracts.order import CanonicalOrder
from lvyue.common.events import Envelope, EventType, by_ce_type, new_event
from lvyue.common.events.catalog import (
    AFTERSALE_RETURN_RECEIVED,
    ORDER_CANCELLED,
    ORDER_CREATED,
    ORDER_SHIPPED,
    ORDER_UPDATED,
    OrderCancelled,
    OrderCreated,
    OrderShipped,
    OrderUpdated,
    ReturnedLine,
    ReturnReceived,
    StockLine,
)
from lvyue.common.events.codec import to_kafka
from lvyue.common.settings import Environment
from lvyue.common.tables import inbox
from lvyue.inventory.main import build_app
from lvyue.inventory.settings import InventorySettings
from lvyue.inventory.tables import reservations, stock, stock_movements
from tests.support.apps import serve
from tests.support.webhooks import canonical_sample

WAREHOUSE = "WH-T"
OPS_TOKEN = "test-ops-token"
WAREHOUSE_TOKEN = "test-warehouse-token"
SRE_TOKEN = "test-sre-token"
PLATFORM_TOKEN = "test-platform-token"
API_TOKENS = {
    "ops": [OPS_TOKEN],
    "warehouse": [WAREHOUSE_TOKEN],
    "sre": [SRE_TOKEN],
    "platform": [PLATFORM_TOKEN],
}
OPS = {"Authorization": f"Bearer {OPS_TOKEN}"}
WAREHOUSE_STAFF = {"Authorization": f"Bearer {WAREHOUSE_TOKEN}"}
SRE = {"Authorization": f"Bearer {SRE_TOKEN}"}
PLATFORM = {"Authorization": f"Bearer {PLATFORM_TOKEN}"}

Lines = Sequence[tuple[str, int]]


def inventory_settings(
    database_url: str, bootstrap: str, prefix: str, **overrides: Any
) -> InventorySettings:
    values: dict[str, Any] = {
        "env": Environment.TEST,
        "database_url": database_url,
        "kafka_bootstrap_servers": bootstrap,
        "kafka_idempotent_producer": False,
        "topic_prefix": prefix,
        "topic_partitions": 2,
        "db_pool_size": 5,
        "outbox_poll_interval_s": 0.02,
        "deadline_scan_interval_s": 0.2,
        "deadline_gauge_interval_s": 0.2,
        "consumer_retry_initial_s": 0.01,
        "consumer_retry_max_s": 0.05,
        "consumer_session_timeout_ms": 2000,
        "api_tokens": API_TOKENS,
        "default_warehouse_id": WAREHOUSE,
        "low_stock_threshold": 0,  # no alerts unless a test asks for them
        "metrics_refresh_interval_s": 0.2,
    }
    values.update(overrides)
    return InventorySettings.model_validate(values)


def canonical_order(lines: Lines) -> CanonicalOrder:
    data = canonical_sample()
    data["platform_order_id"] = uuid.uuid4().hex[:16]
    data["lines"] = [
        {"sku": sku, "quantity": quantity, "unit_price": "10.00"} for sku, quantity in lines
    ]
    return CanonicalOrder.model_validate(data)


def _event(spec: EventType, payload: BaseModel, order_id: uuid.UUID, source: str) -> Envelope:
    return new_event(spec, payload, subject=str(order_id), source=source, time=datetime.now(UTC))


def order_created(order_id: uuid.UUID, lines: Lines) -> Envelope:
    payload = OrderCreated(
        order_id=order_id, received_at=datetime.now(UTC), order=canonical_order(lines)
    )
    return _event(ORDER_CREATED, payload, order_id, "/lvyue/order-review")


def order_updated(order_id: uuid.UUID, lines: Lines) -> Envelope:
    payload = OrderUpdated(
        order_id=order_id, order=canonical_order(lines), updated_at=datetime.now(UTC)
    )
    return _event(ORDER_UPDATED, payload, order_id, "/lvyue/order-review")


def order_cancelled(order_id: uuid.UUID) -> Envelope:
    payload = OrderCancelled(order_id=order_id, reason="buyer", cancelled_at=datetime.now(UTC))
    return _event(ORDER_CANCELLED, payload, order_id, "/lvyue/order-review")


def order_shipped(order_id: uuid.UUID, lines: Lines, dispatched_at: datetime) -> Envelope:
    payload = OrderShipped(
        order_id=order_id,
        warehouse_id=WAREHOUSE,
        lines=tuple(StockLine(sku=s, quantity=q) for s, q in lines),
        carrier="SF",
        tracking_number="SF1234567890",
        dispatched_at=dispatched_at,
    )
    return _event(ORDER_SHIPPED, payload, order_id, "/lvyue/fulfilment")


def return_received(
    order_id: uuid.UUID, lines: Sequence[tuple[str, int, bool]], aftersale_id: uuid.UUID
) -> Envelope:
    payload = ReturnReceived(
        aftersale_id=aftersale_id,
        order_id=order_id,
        warehouse_id=WAREHOUSE,
        lines=tuple(ReturnedLine(sku=s, quantity=q, sellable=ok) for s, q, ok in lines),
        received_at=datetime.now(UTC),
    )
    return _event(AFTERSALE_RETURN_RECEIVED, payload, order_id, "/lvyue/aftersales")


async def publish(producer: AIOKafkaProducer, prefix: str, *events: Envelope) -> None:
    """Produces events as their producers' relays would: CloudEvents binary, key = subject."""
    sent = []
    for envelope in events:
        key, value, headers = to_kafka(envelope)
        spec = by_ce_type(envelope.type)
        assert spec is not None, envelope.type
        topic = prefix + spec.topic
        sent.append(await producer.send(topic, value=value, key=key, headers=headers))
    await asyncio.gather(*sent)


async def eventually(
    check: Callable[[], Awaitable[bool]], *, timeout_s: float = 20.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, f"{what} not reached within {timeout_s}s"
        await asyncio.sleep(0.05)


async def processed(engine: AsyncEngine) -> int:
    """Events the inventory consumer has handled (its inbox)."""
    async with engine.connect() as conn:
        query = select(func.count()).select_from(inbox).where(inbox.c.consumer == "inventory")
        return int((await conn.execute(query)).scalar_one())


async def wait_processed(engine: AsyncEngine, count: int, timeout_s: float = 20.0) -> None:
    async def done() -> bool:
        return await processed(engine) >= count

    await eventually(done, timeout_s=timeout_s, what=f"{count} events processed")


async def stock_of(engine: AsyncEngine, sku: str, warehouse_id: str = WAREHOUSE) -> Any:
    async with engine.connect() as conn:
        query = select(stock).where(stock.c.warehouse_id == warehouse_id, stock.c.sku == sku)
        return (await conn.execute(query)).one()


async def reservations_of(engine: AsyncEngine, order_id: uuid.UUID) -> dict[str, tuple[int, str]]:
    """sku -> (quantity, state)"""
    async with engine.connect() as conn:
        query = select(reservations).where(reservations.c.order_id == order_id)
        return {r.sku: (r.quantity, r.state) for r in await conn.execute(query)}


async def movements_of(engine: AsyncEngine, **filters: Any) -> list[Any]:
    async with engine.connect() as conn:
        query = select(stock_movements).order_by(stock_movements.c.id)
        for name, value in filters.items():
            query = query.where(stock_movements.c[name] == value)
        return list(await conn.execute(query))


@asynccontextmanager
async def stocked_inventory(
    settings: InventorySettings,
    stock: Mapping[str, int] | Mapping[tuple[str, str], int],
    thresholds: Mapping[str, int] | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """The inventory app in-process, with SKUs created and stocked through its API.

    `stock` keys are SKUs of WAREHOUSE or (warehouse, SKU) pairs; `thresholds` per SKU.
    """
    async with serve(build_app(settings)) as client:
        for key, quantity in stock.items():
            warehouse, sku = key if isinstance(key, tuple) else (WAREHOUSE, key)
            threshold = (thresholds or {}).get(sku)
            put = await client.put(
                f"/skus/{warehouse}/{sku}", json={"safety_threshold": threshold}, headers=OPS
            )
            assert put.status_code == 201, put.text
            if quantity:
                receipt = {"warehouse_id": warehouse, "sku": sku, "quantity": quantity}
                reference = f"init-{warehouse}-{sku}"
                posted = await client.post(
                    "/stock/receipts", json={**receipt, "reference": reference}, headers=OPS
                )
                assert posted.status_code == 201, posted.text
        yield client
