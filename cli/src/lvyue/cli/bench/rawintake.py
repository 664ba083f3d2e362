"""The intake write with nothing around it: raw asyncpg, one transaction, the same rows.

The same statements order-review's intake runs (delivery lookup; order ON CONFLICT; status
history; review deadline; outbox row; delivery row) against tables made by order-review's own
migrations, so columns and indexes match. It is the floor of what intake can cost.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from lvyue.common.events.catalog import ORDER_CREATED

Connection = asyncpg.Connection | PoolConnectionProxy  # a pool hands out proxies

SHANGHAI = ZoneInfo("Asia/Shanghai")
SOURCE = "/lvyue/bench-raw-intake"

FIND_DELIVERY = "SELECT order_id FROM webhook_deliveries WHERE platform = $1 AND delivery_id = $2"
INSERT_ORDER = """
INSERT INTO orders (id, platform, shop_id, platform_order_id, status, urgent, promotion,
                    paid_at, received_at, updated_at, "order")
VALUES ($1, $2, $3, $4, 'pending_review', $5, $6, $7, $8, $8, $9::jsonb)
ON CONFLICT (platform, shop_id, platform_order_id) DO NOTHING
RETURNING id
"""
FIND_ORDER = "SELECT id FROM orders WHERE platform = $1 AND shop_id = $2 AND platform_order_id = $3"
INSERT_STATUS = """
INSERT INTO order_status_history (order_id, status, at, note, details)
VALUES ($1, 'pending_review', $2, '', '{}'::jsonb)
"""
OPEN_DEADLINE = """
INSERT INTO deadlines (id, sla, subject, state, opened_at, due_at)
VALUES ($1, 'review_by_0900', $2, 'open', $3, $4)
ON CONFLICT (sla, subject) WHERE closed_at IS NULL DO NOTHING
"""
STAGE_EVENT = """
INSERT INTO outbox (event_id, topic, key, event_type, source, dataschema, occurred_at, payload)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)
"""
RECORD_DELIVERY = """
INSERT INTO webhook_deliveries (platform, delivery_id, order_id, received_at, body)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT DO NOTHING
"""


def review_due(paid_at: datetime) -> datetime:
    """09:00 Shanghai time the day after payment (the policy's common case, no calendar)."""
    local = paid_at.astimezone(SHANGHAI)
    return datetime.combine(local.date() + timedelta(days=1), time(9), SHANGHAI)


async def write_order(
    conn: Connection, order: dict[str, Any], *, delivery_id: str, body: str
) -> tuple[uuid.UUID, bool]:
    """One webhook's intake in one transaction: (order id, created)."""
    platform = "lvyue"
    async with conn.transaction():
        known = await conn.fetchval(FIND_DELIVERY, platform, delivery_id)
        if known is not None:
            return known, False
        now = datetime.now(UTC)
        paid_at = datetime.fromisoformat(order["paid_at"])
        keys = (order["platform"], order["shop_id"], order["platform_order_id"])
        order_id = await conn.fetchval(
            INSERT_ORDER, uuid.uuid4(), *keys, bool(order.get("urgent")),
            bool(order.get("promotion")), paid_at, now, json.dumps(order),
        )  # fmt: skip
        created = order_id is not None
        if order_id is None:
            order_id = await conn.fetchval(FIND_ORDER, *keys)
        else:
            await conn.execute(INSERT_STATUS, order_id, now)
            await conn.execute(OPEN_DEADLINE, uuid.uuid4(), str(order_id), now, review_due(paid_at))
            event = {"order_id": str(order_id), "received_at": now.isoformat(), "order": order}
            await conn.execute(
                STAGE_EVENT, uuid.uuid4(), ORDER_CREATED.topic, str(order_id),
                ORDER_CREATED.ce_type, SOURCE, ORDER_CREATED.dataschema, now, json.dumps(event),
            )  # fmt: skip
        await conn.execute(RECORD_DELIVERY, platform, delivery_id, order_id, now, body)
    return order_id, created
