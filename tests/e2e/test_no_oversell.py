"""Rule no_oversell with two inventory replicas in one consumer group: 50 units, 200 orders."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.cli.embedded import EmbeddedBroker, free_port
from lvyue.common.db import make_engine
from lvyue.common.events.codec import from_kafka
from lvyue.common.kafka import make_producer
from lvyue.inventory.tables import order_allocations, reservations, stock, stock_movements
from tests.support.inventory import API_TOKENS, OPS, WAREHOUSE, order_created, publish
from tests.support.kafka import read_topic
from tests.support.processes import http, service_process

SKU = "FLASH-SALE-1"
UNITS, ORDERS = 50, 200


def _env(database_url: str, broker: EmbeddedBroker, prefix: str, port: int) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "LVYUE_ENV": "test",
        "LVYUE_KAFKA_IDEMPOTENT_PRODUCER": "false",
        "LVYUE_TOPIC_PREFIX": prefix,
        "LVYUE_TOPIC_PARTITIONS": "4",
        "LVYUE_HTTP_PORT": str(port),
        "LVYUE_API_TOKENS": json.dumps(API_TOKENS),
        "LVYUE_DEFAULT_WAREHOUSE_ID": WAREHOUSE,
        "LVYUE_LOG_LEVEL": "WARNING",
    }


async def _wait_for_stable_group(bootstrap: str, group: str, members: int) -> None:
    """Producing before the rebalance settles would let one replica take every partition."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        deadline = time.monotonic() + 30
        while True:
            described = (await admin.describe_consumer_groups([group]))[0].to_object()
            state = described["groups"][0]
            if state["state"] == "Stable" and len(state["members"]) == members:
                return
            assert time.monotonic() < deadline, f"group {group} not stable: {state}"
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


async def _decided_by(port: int) -> float:
    response = await http("GET", f"http://127.0.0.1:{port}/metrics")
    return sum(
        sample.value
        for family in text_string_to_metric_families(response.text)
        if family.name == "lvyue_inventory_reservations"
        for sample in family.samples
        if sample.name.endswith("_total")
    )


async def _scalar(engine: AsyncEngine, query: object) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(query)).scalar_one())  # type: ignore[call-overload]


async def test_two_replicas_and_200_concurrent_orders_sell_exactly_the_50_units_in_stock(
    inventory_db: str, broker: EmbeddedBroker, topic_prefix: str, tmp_path: Path
) -> None:
    ports = (free_port(), free_port())
    bootstrap = broker.bootstrap_servers
    with ExitStack() as stack:
        for n, port in enumerate(ports):
            env = _env(inventory_db, broker, topic_prefix, port)
            log = tmp_path / f"inventory-{n}.log"
            stack.enter_context(service_process("lvyue.inventory", env, port=port, log=log))
        await _wait_for_stable_group(bootstrap, topic_prefix + "inventory", members=2)

        first, second = (f"http://127.0.0.1:{p}" for p in ports)
        put = await http("PUT", f"{first}/skus/{WAREHOUSE}/{SKU}", json={}, headers=OPS)
        assert put.status_code == 201, put.text
        receipt = {"warehouse_id": WAREHOUSE, "sku": SKU, "quantity": UNITS, "reference": "GRN-1"}
        for base, status in ((first, 201), (second, 200)):  # a retried receipt: applied once
            posted = await http("POST", f"{base}/stock/receipts", json=receipt, headers=OPS)
            assert posted.status_code == status, posted.text

        order_ids = [uuid.uuid4() for _ in range(ORDERS)]
        producer = make_producer(bootstrap, idempotent=False)
        await producer.start()
        try:
            await publish(
                producer, topic_prefix, *(order_created(o, [(SKU, 1)]) for o in order_ids)
            )
        finally:
            await producer.stop()

        reserved = await read_topic(
            bootstrap, topic_prefix + "inventory.reserved", expect=UNITS, timeout_s=60, settle_s=2
        )
        rejected = await read_topic(
            bootstrap,
            topic_prefix + "inventory.rejected",
            expect=ORDERS - UNITS,
            timeout_s=60,
            settle_s=2,
        )
        decided = [await _decided_by(p) for p in ports]

    assert (len(reserved), len(rejected)) == (UNITS, ORDERS - UNITS)
    subjects = [from_kafka(r.key, r.value, r.headers).subject for r in reserved + rejected]
    assert sorted(subjects) == sorted(str(o) for o in order_ids)  # every order, once
    assert sum(decided) == ORDERS
    assert all(d > 0 for d in decided), f"one replica decided nothing: {decided}"

    engine = make_engine(inventory_db, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            row = (await conn.execute(select(stock).where(stock.c.sku == SKU))).one()
        assert (row.on_hand, row.reserved) == (UNITS, UNITS)
        held = (
            select(func.count()).select_from(reservations).where(reservations.c.state == "reserved")
        )
        assert await _scalar(engine, held) == UNITS
        reserves = (
            select(func.count())
            .select_from(stock_movements)
            .where(stock_movements.c.kind == "reserve")
        )
        assert await _scalar(engine, reserves) == UNITS
        refused = (
            select(func.count())
            .select_from(order_allocations)
            .where(order_allocations.c.state == "rejected")
        )
        assert await _scalar(engine, refused) == ORDERS - UNITS
        lowest = select(func.min(stock.c.on_hand - stock.c.reserved))
        assert await _scalar(engine, lowest) >= 0
        # every movement left a non-negative available behind it
        worst = select(func.min(stock_movements.c.on_hand_after - stock_movements.c.reserved_after))
        assert await _scalar(engine, worst) == 0
    finally:
        await engine.dispose()
