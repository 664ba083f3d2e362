"""The figures of a chaos run, read after quiescence: SQL in each service's own database, and
the topics read from their beginning (the embedded broker's ListOffsets is unreliable, so
reading stops after a quiet spell, within a bounded time, never at an end offset)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Collection, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from lvyue.cli.bench.effects import staged_twice
from lvyue.cli.services import SERVICES
from lvyue.common.db import libpq_url, with_database
from lvyue.common.events.catalog import (
    INVENTORY_RESERVED,
    ORDER_CREATED,
    ORDER_REVIEWED,
    ORDER_SHIPPED,
    SHIPMENT_REQUESTED,
    SLA_BREACHED,
)
from lvyue.common.events.registry import all_topics
from lvyue.common.kafka import first_holes
from lvyue.common.nudge import is_nudge

# One event per order on each of these: a second one (another event id) is a duplicate effect.
PIPELINE = tuple(
    e.topic
    for e in (ORDER_CREATED, INVENTORY_RESERVED, ORDER_REVIEWED, SHIPMENT_REQUESTED, ORDER_SHIPPED)
)
DATABASE = {spec.name: spec.database for spec in SERVICES}


@asynccontextmanager
async def connect(server_url: str, service: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(libpq_url(with_database(server_url, DATABASE[service])))
    try:
        yield conn
    finally:
        await conn.close()


@dataclass(frozen=True)
class Sent:
    """What the driver knows: the orders answered 2xx and their lines."""

    posted: int
    accepted: Mapping[str, int]  # order id -> its lines (distinct SKUs)
    redeliveries: int
    redeliveries_same_order: int
    skus: int


async def progress(server_url: str, accepted: Collection[str]) -> dict[str, int]:
    """How far the pipeline is: accepted orders shipped in order-review, unsent events, events
    a subscribed consumer has not processed yet (one started again may still be joining)."""
    ids = [uuid.UUID(o) for o in accepted]
    found: dict[str, int] = {"outbox_unsent": 0}
    for service in DATABASE:
        async with connect(server_url, service) as conn:
            found["outbox_unsent"] += await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
            )
            found[f"{service}_inbox"] = await conn.fetchval("SELECT count(*) FROM inbox")
            if service == "order-review":
                found["review_shipped"] = await conn.fetchval(
                    "SELECT count(*) FROM orders WHERE id = ANY($1) AND status = 'shipped'", ids
                )
            if service == "fulfilment":
                found["pending_shipments"] = await conn.fetchval(
                    "SELECT count(*) FROM shipments WHERE status = 'pending'"
                )
    found["unconsumed"] = await unconsumed(server_url)
    return found


async def shipment_requested(server_url: str, order_id: str) -> bool:
    """Whether fulfilment has a shipment for the order (the pipeline's every consumer ran)."""
    async with connect(server_url, "fulfilment") as conn:
        found: bool = await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM shipments WHERE order_id = $1)", uuid.UUID(order_id)
        )
    return found


async def gather_facts(
    server_url: str, bootstrap_servers: str, sent: Sent, *, prefix: str = "", read_s: float = 60
) -> dict[str, int]:
    facts: dict[str, int] = {
        "posted": sent.posted,
        "accepted": len(sent.accepted),
        "lines": sum(sent.accepted.values()),
        "redeliveries": sent.redeliveries,
        "redeliveries_same_order": sent.redeliveries_same_order,
        "skus": sent.skus,
    }
    ids = [uuid.UUID(o) for o in sent.accepted]
    keys = list(sent.accepted)
    facts |= await _order_review(server_url, ids)
    facts |= await _inventory(server_url, ids)
    facts |= await _fulfilment(server_url, ids, keys)
    facts |= await _kernel(server_url)
    facts["staged_twice"] = sum((await staged_twice(server_url, PIPELINE)).values())
    facts |= await read_topics(bootstrap_servers, prefix=prefix, limit_s=read_s)
    return facts


async def _order_review(server_url: str, ids: list[uuid.UUID]) -> dict[str, int]:
    async with connect(server_url, "order-review") as conn:
        once = await conn.fetchval(
            """
            SELECT count(*) FROM orders o WHERE o.id = ANY($1) AND (
                SELECT count(*) FROM orders o2 WHERE o2.platform = o.platform
                AND o2.shop_id = o.shop_id AND o2.platform_order_id = o.platform_order_id) = 1
            """,
            ids,
        )
        unacknowledged = await conn.fetchval(
            "SELECT count(*) FROM orders WHERE NOT (id = ANY($1))", ids
        )
        shipped = await conn.fetchval(
            "SELECT count(*) FROM orders WHERE id = ANY($1) AND status = 'shipped'", ids
        )
    return {"review_once": once, "review_unacknowledged": unacknowledged, "review_shipped": shipped}


async def _inventory(server_url: str, ids: list[uuid.UUID]) -> dict[str, int]:
    async with connect(server_url, "inventory") as conn:
        shipped = await conn.fetchval(
            "SELECT count(*) FROM order_allocations WHERE order_id = ANY($1) AND state = 'shipped'",
            ids,
        )
        lines = await conn.fetchval(
            """
            SELECT count(*) FROM reservations r WHERE r.order_id = ANY($1)
            AND r.state = 'deducted'
            AND (SELECT count(*) FROM stock_movements m WHERE m.order_id = r.order_id
                 AND m.sku = r.sku AND m.kind = 'reserve') = 1
            AND (SELECT count(*) FROM stock_movements m WHERE m.order_id = r.order_id
                 AND m.sku = r.sku AND m.kind = 'deduct') = 1
            """,
            ids,
        )
        stock = await conn.fetch(
            """
            SELECT s.on_hand, s.reserved,
              coalesce((SELECT sum(on_hand_delta) FROM stock_movements m WHERE m.kind = 'receipt'
                AND m.warehouse_id = s.warehouse_id AND m.sku = s.sku), 0) AS receipts,
              coalesce((SELECT -sum(on_hand_delta) FROM stock_movements m WHERE m.kind = 'deduct'
                AND m.warehouse_id = s.warehouse_id AND m.sku = s.sku), 0) AS deductions,
              coalesce((SELECT sum(quantity) FROM reservations r WHERE r.state = 'deducted'
                AND r.warehouse_id = s.warehouse_id AND r.sku = s.sku), 0) AS deducted,
              coalesce((SELECT sum(quantity) FROM reservations r WHERE r.state = 'reserved'
                AND r.warehouse_id = s.warehouse_id AND r.sku = s.sku), 0) AS holding
            FROM stock s
            """
        )
    consistent = sum(
        1
        for row in stock
        if row["on_hand"] == row["receipts"] - row["deductions"]
        and row["deductions"] == row["deducted"]
        and row["reserved"] == row["holding"]
    )
    negative = sum(
        1
        for row in stock
        if row["on_hand"] < 0 or row["reserved"] < 0 or row["on_hand"] < row["reserved"]
    )
    return {
        "inventory_shipped": shipped,
        "lines_reserved_deducted_once": lines,
        "stock_consistent": consistent,
        "stock_skus": len(stock),
        "stock_negative": negative,
    }


async def _fulfilment(server_url: str, ids: list[uuid.UUID], keys: list[str]) -> dict[str, int]:
    async with connect(server_url, "fulfilment") as conn:
        once = await conn.fetchval(
            """
            SELECT count(*) FROM (
                SELECT order_id FROM shipments WHERE order_id = ANY($1) AND aftersale_id IS NULL
                GROUP BY order_id HAVING count(*) = 1 AND bool_and(status = 'dispatched')
            ) AS one
            """,
            ids,
        )
        shipped = await conn.fetchval(
            """
            SELECT count(*) FROM (
                SELECT key FROM outbox WHERE topic = $1 AND key = ANY($2::text[])
                GROUP BY key HAVING count(*) = 1
            ) AS one
            """,
            ORDER_SHIPPED.topic,
            keys,
        )
    return {"shipment_once": once, "shipped_event_once": shipped}


async def _kernel(server_url: str) -> dict[str, int]:
    """Across every service database: consumption, deadlines, breaches, dead letters."""
    facts = dict.fromkeys(
        ("deadlines_twice", "breaches_twice", "breaches", "dead_letters", "outbox_unsent"), 0
    )
    facts["unconsumed"] = await unconsumed(server_url)
    for service in DATABASE:
        async with connect(server_url, service) as conn:
            facts["deadlines_twice"] += await conn.fetchval(
                "SELECT count(*) FROM (SELECT 1 FROM deadlines GROUP BY sla, subject "
                "HAVING count(*) > 1) AS twice"
            )
            facts["breaches_twice"] += await conn.fetchval(
                "SELECT count(*) FROM (SELECT 1 FROM outbox WHERE topic = $1 "
                "GROUP BY payload->>'deadline_id' HAVING count(*) > 1) AS twice",
                SLA_BREACHED.topic,
            )
            facts["breaches"] += await conn.fetchval(
                "SELECT count(*) FROM deadlines WHERE state = 'breached'"
            )
            facts["dead_letters"] += await conn.fetchval("SELECT count(*) FROM dead_letters")
            facts["outbox_unsent"] += await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
            )
    return facts


async def unconsumed(server_url: str) -> int:
    """Events some consumer subscribed to their topic has not processed (handled or parked as
    a dead letter), across every service database."""
    events: dict[str, set[str]] = defaultdict(set)  # topic -> event ids staged by any service
    processed: dict[str, set[str]] = defaultdict(set)  # consumer -> event ids handled or parked
    subscribers: dict[str, set[str]] = defaultdict(set)  # topic -> consumers
    for service in DATABASE:
        async with connect(server_url, service) as conn:
            for row in await conn.fetch("SELECT topic, event_id::text AS id FROM outbox"):
                events[row["topic"]].add(row["id"])
            for row in await conn.fetch("SELECT consumer, event_id FROM inbox"):
                processed[row["consumer"]].add(row["event_id"])
            for row in await conn.fetch(
                "SELECT consumer, event_id FROM dead_letters WHERE event_id IS NOT NULL"
            ):
                processed[row["consumer"]].add(row["event_id"])
            for row in await conn.fetch("SELECT consumer, topic FROM consumer_subscriptions"):
                subscribers[row["topic"]].add(row["consumer"])
    return sum(
        len(ids - processed[consumer])
        for topic, ids in events.items()
        for consumer in subscribers.get(topic, ())
    )


async def read_topics(
    bootstrap_servers: str, *, prefix: str = "", limit_s: float = 60.0, quiet_s: float = 3.0
) -> dict[str, int]:
    """Every topic from its beginning until nothing came for `quiet_s` (at most `limit_s`):
    orders with two different events on a pipeline topic, messages on dead-letter topics, and
    orders whose order.shipped the broker holds (only since its last start: memory storage)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=200,
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + limit_s
        names = all_topics(prefix)
        partitions: list[TopicPartition] = []
        await consumer.topics()
        for name in names:
            parts = consumer.partitions_for_topic(name) or set()
            partitions += [TopicPartition(name, p) for p in sorted(parts)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ids: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        dead = 0
        read: dict[TopicPartition, set[int]] = defaultdict(set)
        last_message = time.monotonic()
        while time.monotonic() < deadline and time.monotonic() - last_message < quiet_s:
            batches = await consumer.getmany(timeout_ms=500, max_records=5000)
            if not batches:  # a hole below what was read: the embedded broker's defect
                for tp, offset in first_holes(read).items():
                    consumer.seek(tp, offset)
            for tp, all_messages in batches.items():
                new = [m for m in all_messages if m.offset not in read[tp]]
                read[tp].update(m.offset for m in new)
                if new:
                    last_message = time.monotonic()
                messages = [m for m in new if not is_nudge(m.value, m.headers)]
                topic = tp.topic.removeprefix(prefix)
                if topic.endswith(".dlq"):
                    dead += len(messages)
                    continue
                for message in messages:
                    headers = dict(message.headers)
                    event_id = headers.get("ce_id", b"").decode()
                    key = message.key.decode() if message.key is not None else ""
                    ids[topic][key].add(event_id)
            await asyncio.sleep(0)
    finally:
        await consumer.stop()
    twice = sum(
        1 for topic in PIPELINE for events in ids.get(topic, {}).values() if len(events) > 1
    )
    return {
        "topic_orders_twice": twice,
        "topic_dead_letters": dead,
        "topic_shipped_orders": len(ids.get(ORDER_SHIPPED.topic, {})),
    }


async def unfinished(
    server_url: str, accepted: Collection[str], *, limit: int = 20
) -> list[dict[str, str | None]]:
    """Accepted orders not shipped in order-review, with where each service left them (the
    first `limit`): what to look at when quiescence never came."""
    ids = [uuid.UUID(o) for o in accepted]
    async with connect(server_url, "order-review") as conn:
        rows = await conn.fetch(
            "SELECT id, status, received_at FROM orders WHERE id = ANY($1) AND status <> 'shipped'"
            " ORDER BY received_at LIMIT $2",
            ids,
            limit,
        )
        missing = await conn.fetch(
            "SELECT x FROM unnest($1::uuid[]) AS x WHERE NOT EXISTS "
            "(SELECT 1 FROM orders WHERE id = x) LIMIT $2",
            ids,
            limit,
        )
    found: list[dict[str, str | None]] = [
        {"order_id": str(r["id"]), "order_review": r["status"],
         "received_at": r["received_at"].isoformat()}
        for r in rows
    ]  # fmt: skip
    found += [{"order_id": str(r["x"]), "order_review": None} for r in missing]
    wanted = [uuid.UUID(str(f["order_id"])) for f in found]
    async with connect(server_url, "inventory") as conn:
        states: dict[uuid.UUID, str] = {
            r["order_id"]: r["state"]
            for r in await conn.fetch(
                "SELECT order_id, state FROM order_allocations WHERE order_id = ANY($1)", wanted
            )
        }
    async with connect(server_url, "fulfilment") as conn:
        shipments: dict[uuid.UUID, str] = {
            r["order_id"]: r["statuses"]
            for r in await conn.fetch(
                "SELECT order_id, string_agg(status, ',') AS statuses FROM shipments"
                " WHERE order_id = ANY($1) GROUP BY order_id",
                wanted,
            )
        }
    for entry, order_id in zip(found, wanted, strict=True):
        entry["inventory"] = states.get(order_id)
        entry["fulfilment"] = shipments.get(order_id)
    return found
