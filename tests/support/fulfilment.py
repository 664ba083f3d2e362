"""Fulfilment test helpers: settings against the test database and broker, and order events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.common.contracts.order import Receiver
from lvyue.common.events import Envelope, EventType, new_event
from lvyue.common.events.catalog import (
    AFTERSALE_REPLACEMENT_DISPATCHED,
    AFTERSALE_REPLACEMENT_REQUESTED,
    ORDER_CANCELLED,
    ORDER_RECEIVER_CHANGED,
    ORDER_REVIEWED,
    SHIPMENT_CANCELLED,
    WAREHOUSE_DISPATCHED,
    OrderCancelled,
    OrderReceiverChanged,
    OrderReviewed,
    Priority,
    ReplacementDispatched,
    ReplacementRequested,
    ShipmentCancelled,
    StockLine,
    WarehouseDispatched,
)
from lvyue.common.settings import Environment
from lvyue.common.tables import deadlines, inbox
from lvyue.fulfilment.domain import SHIPMENT_SLAS
from lvyue.fulfilment.settings import FulfilmentSettings
from tests.support.inventory import API_TOKENS, canonical_order

WAREHOUSE = "WH-SH-01"
Lines = Sequence[tuple[str, int]]


def fulfilment_settings(
    database_url: str, bootstrap: str, prefix: str, **overrides: Any
) -> FulfilmentSettings:
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
        "consumer_max_attempts": 2,
        "consumer_session_timeout_ms": 2000,
        # Shipment tests move the clock by hours; tracking sync (no platform API configured
        # here) has its own tests with its real 5-minute policy.
        "sla_policies": {"tracking_sync": "duration:30d"},
        "api_tokens": API_TOKENS,
        "timezone": "Asia/Shanghai",
        "warehouses": {WAREHOUSE: {"cutoff": "16:00"}},
        "metrics_refresh_interval_s": 0.2,
    }
    values.update(overrides)
    return FulfilmentSettings.model_validate(values)


def _event(spec: EventType, payload: BaseModel, subject: uuid.UUID, source: str) -> Envelope:
    return new_event(spec, payload, subject=str(subject), source=source, time=datetime.now(UTC))


def order_reviewed(
    order_id: uuid.UUID,
    *,
    reviewed_at: datetime,
    priority: Priority = Priority.NORMAL,
    warehouse_id: str = WAREHOUSE,
    lines: Lines = (("TEA-LJ-250G", 2), ("CUP-GLASS-01", 1)),
    platform: str | None = None,
) -> Envelope:
    order = canonical_order(lines)
    if platform is not None:
        order = order.model_copy(update={"platform": platform})
    payload = OrderReviewed(
        order_id=order_id,
        warehouse_id=warehouse_id,
        priority=priority,
        promised_dispatch_at=reviewed_at,
        reviewed_at=reviewed_at,
        order=order,
    )
    return _event(ORDER_REVIEWED, payload, order_id, "/lvyue/order-review")


def order_cancelled(order_id: uuid.UUID, *, at: datetime, reason: str = "buyer") -> Envelope:
    payload = OrderCancelled(order_id=order_id, reason=reason, cancelled_at=at)
    return _event(ORDER_CANCELLED, payload, order_id, "/lvyue/order-review")


def receiver_changed(order_id: uuid.UUID, *, at: datetime, detail: str) -> Envelope:
    """The buyer's new receiver (the test order's, at another door: `detail`)."""
    receiver = canonical_order((("TEA-LJ-250G", 1),)).receiver
    address = receiver.address.model_copy(update={"detail": detail})
    moved = Receiver.model_validate(receiver.model_dump() | {"address": address.model_dump()})
    payload = OrderReceiverChanged(
        order_id=order_id, receiver=moved, platform="douyin", changed_at=at
    )
    return _event(ORDER_RECEIVER_CHANGED, payload, order_id, "/lvyue/order-review")


def warehouse_dispatched(
    order_id: uuid.UUID,
    shipment_id: uuid.UUID,
    *,
    at: datetime,
    carrier: str = "SF",
    tracking: str = "SF1234567890",
) -> Envelope:
    payload = WarehouseDispatched(
        shipment_id=shipment_id, carrier_code=carrier, tracking_number=tracking, dispatched_at=at
    )
    return _event(WAREHOUSE_DISPATCHED, payload, order_id, "/wms/WH-SH-01")


def replacement_requested(
    order_id: uuid.UUID,
    aftersale_id: uuid.UUID,
    *,
    at: datetime,
    lines: Lines = (("TEA-LJ-250G", 1),),
    warehouse_id: str = WAREHOUSE,
) -> Envelope:
    """What aftersales emits once an exchange's return arrived (see tests/support/aftersales)."""
    order = canonical_order(lines)
    payload = ReplacementRequested(
        aftersale_id=aftersale_id,
        order_id=order_id,
        warehouse_id=warehouse_id,
        platform=order.platform,
        shop_id=order.shop_id,
        platform_order_id=order.platform_order_id,
        lines=order.lines,
        receiver=order.receiver,
        requested_at=at,
    )
    return _event(AFTERSALE_REPLACEMENT_REQUESTED, payload, order_id, "/lvyue/aftersales")


def replacement_dispatched(
    order_id: uuid.UUID,
    aftersale_id: uuid.UUID,
    *,
    at: datetime,
    lines: Lines = (("TEA-LJ-250G", 1),),
    warehouse_id: str = WAREHOUSE,
    tracking: str = "SF9876543210",
) -> Envelope:
    """What fulfilment emits once the replacement left the warehouse."""
    payload = ReplacementDispatched(
        aftersale_id=aftersale_id,
        shipment_id=uuid.uuid4(),
        order_id=order_id,
        warehouse_id=warehouse_id,
        lines=tuple(StockLine(sku=sku, quantity=q) for sku, q in lines),
        carrier="SF",
        tracking_number=tracking,
        dispatched_at=at,
    )
    return _event(AFTERSALE_REPLACEMENT_DISPATCHED, payload, order_id, "/lvyue/fulfilment")


def shipment_cancelled(
    order_id: uuid.UUID,
    *,
    at: datetime,
    aftersale_id: uuid.UUID | None = None,
    warehouse_id: str = WAREHOUSE,
    reason: str = "buyer",
) -> Envelope:
    payload = ShipmentCancelled(
        shipment_id=uuid.uuid4(),
        order_id=order_id,
        warehouse_id=warehouse_id,
        reason=reason,
        cancelled_at=at,
        aftersale_id=aftersale_id,
    )
    return _event(SHIPMENT_CANCELLED, payload, order_id, "/lvyue/fulfilment")


async def processed(engine: AsyncEngine) -> int:
    """Events the fulfilment consumer has handled (its inbox)."""
    async with engine.connect() as conn:
        query = select(func.count()).select_from(inbox).where(inbox.c.consumer == "fulfilment")
        return int((await conn.execute(query)).scalar_one())


async def deadline_states(
    engine: AsyncEngine, order_id: uuid.UUID, slas: tuple[str, ...] = SHIPMENT_SLAS
) -> dict[str, str]:
    """sla -> state of the order's shipment deadlines (tracking_sync has its own tests)."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(deadlines.c.sla, deadlines.c.state).where(
                deadlines.c.subject == str(order_id), deadlines.c.sla.in_(slas)
            )
        )
        return {row.sla: row.state for row in rows}
