"""Aftersales test helpers: settings on the test database and broker, shipped orders and
replacement dispatches announced on the topics as order-review and fulfilment would, signed
webhooks, the app in-process, what its consumer handled."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.aftersales.main import build_app
from lvyue.aftersales.settings import AftersalesSettings
from lvyue.common.clock import ManualClock
from lvyue.common.contracts.order import CanonicalOrder
from lvyue.common.events import Envelope
from lvyue.common.events.catalog import (
    AFTERSALE_REPLACEMENT_DISPATCHED,
    ORDER_REVIEWED,
    ORDER_SHIPPED,
    OrderReviewed,
    OrderShipped,
    Priority,
    ReplacementDispatched,
    StockLine,
)
from lvyue.common.events.codec import from_kafka
from lvyue.common.settings import Environment
from lvyue.common.tables import dead_letters, inbox
from lvyue.common.webhooks import relaying
from tests.support.apps import serve
from tests.support.inventory import API_TOKENS, OPS, WAREHOUSE, WAREHOUSE_STAFF
from tests.support.kafka import read_topic
from tests.support.polling import eventually
from tests.support.publish import publish
from tests.support.webhooks import (
    DATA,
    RELAYED,
    canonical_sample,
    douyin_headers,
    jd_request,
    lvyue_headers,
    pinduoduo_request,
    taobao_request,
)

WEBHOOK_SECRET = "test-webhook-secret"
TEA, CUP = "TEA-LJ-250G", "CUP-GLASS-01"
Line = tuple[str, int, str]  # sku, quantity, unit price
DEFAULT_LINES: tuple[Line, ...] = ((TEA, 2, "168.00"), (CUP, 1, "39.90"))


def aftersales_settings(
    database_url: str, bootstrap: str, prefix: str, **overrides: Any
) -> AftersalesSettings:
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
        "webhook_secrets": {"lvyue": relaying(WEBHOOK_SECRET, RELAYED)},
        "ledger_check_interval_s": 0.2,
    }
    values.update(overrides)
    return AftersalesSettings.model_validate(values)


def order(
    lines: tuple[Line, ...] = DEFAULT_LINES, *, paid_total: str = "345.90", platform: str = "taobao"
) -> CanonicalOrder:
    data = canonical_sample()
    data.update(platform=platform, platform_order_id=uuid.uuid4().hex[:16], remarks="")
    data["lines"] = [{"sku": s, "quantity": q, "unit_price": p} for s, q, p in lines]
    data["amounts"] = {"goods_total": paid_total, "paid_total": paid_total}
    return CanonicalOrder.model_validate(data)


def money(value: Any) -> Decimal:
    return Decimal(str(value))


@dataclass
class Aftersales:
    """The aftersales app in-process, its clock, and what it needs from the outside world."""

    app: FastAPI
    client: httpx.AsyncClient
    clock: ManualClock
    bootstrap: str
    prefix: str

    async def announce(
        self, order_id: uuid.UUID, placed: CanonicalOrder, *, shipped: bool = True
    ) -> None:
        """order.reviewed (order-review), then order.shipped (fulfilment), on the real topics."""
        reviewed = OrderReviewed(
            order_id=order_id, warehouse_id=WAREHOUSE, priority=Priority.NORMAL,
            promised_dispatch_at=self.clock.now(), reviewed_at=self.clock.now(), order=placed,
        )  # fmt: skip
        await publish(
            self.bootstrap, self.prefix, ORDER_REVIEWED, reviewed,
            subject=str(order_id), source="/lvyue/order-review",
        )  # fmt: skip
        if shipped:
            dispatched = OrderShipped(
                order_id=order_id, warehouse_id=WAREHOUSE,
                lines=tuple(StockLine(sku=x.sku, quantity=x.quantity) for x in placed.lines),
                carrier="SF", tracking_number="SF1234567890", dispatched_at=self.clock.now(),
            )  # fmt: skip
            await publish(
                self.bootstrap, self.prefix, ORDER_SHIPPED, dispatched,
                subject=str(order_id), source="/lvyue/fulfilment",
            )  # fmt: skip

    async def shipped_order(
        self, placed: CanonicalOrder | None = None
    ) -> tuple[uuid.UUID, CanonicalOrder]:
        """A fresh order, announced and seen by aftersales as shipped."""
        placed = placed or order()
        order_id = uuid.uuid4()
        await self.announce(order_id, placed)
        await self.until_order(order_id, lambda o: o["shipped"])
        return order_id, placed

    async def until_order(self, order_id: uuid.UUID, accept: Any) -> dict[str, Any]:
        async def probe() -> httpx.Response:
            return await self.client.get(f"/orders/{order_id}", headers=OPS)

        response = await eventually(probe, lambda r: r.status_code == 200 and accept(r.json()))
        data: dict[str, Any] = response.json()
        return data

    async def dispatch_replacement(
        self,
        case_id: str | uuid.UUID,
        order_id: uuid.UUID,
        *,
        shipment_id: uuid.UUID,
        lines: tuple[tuple[str, int], ...] = ((TEA, 1),),
        carrier: str = "SF",
        tracking_number: str = "SF9876543210",
    ) -> ReplacementDispatched:
        """aftersale.replacement_dispatched as fulfilment sends it; a new event id each call."""
        dispatched = ReplacementDispatched(
            aftersale_id=uuid.UUID(str(case_id)), shipment_id=shipment_id, order_id=order_id,
            warehouse_id=WAREHOUSE, lines=tuple(StockLine(sku=s, quantity=q) for s, q in lines),
            carrier=carrier, tracking_number=tracking_number, dispatched_at=self.clock.now(),
        )  # fmt: skip
        await publish(
            self.bootstrap, self.prefix, AFTERSALE_REPLACEMENT_DISPATCHED, dispatched,
            subject=str(order_id), source="/lvyue/fulfilment",
        )  # fmt: skip
        return dispatched

    async def until_case(self, case_id: str, accept: Any) -> dict[str, Any]:
        async def probe() -> httpx.Response:
            return await self.client.get(f"/aftersales/{case_id}", headers=OPS)

        response = await eventually(probe, lambda r: r.status_code == 200 and accept(r.json()))
        data: dict[str, Any] = response.json()
        return data

    async def webhook(self, body: dict[str, Any], *, delivery: str | None = None) -> httpx.Response:
        raw = json.dumps(body).encode()
        headers = lvyue_headers(
            raw, WEBHOOK_SECRET, delivery=delivery, timestamp=int(self.clock.now().timestamp())
        )
        return await self.client.post("/webhooks/lvyue/aftersales", content=raw, headers=headers)

    async def open(
        self,
        order_id: uuid.UUID,
        case_type: str,
        *,
        reason: str = "quality",
        lines: tuple[tuple[str, int], ...] = ((TEA, 1),),
        amount: str | None = "168.00",
        key: str | None = None,
        expect: int = 201,
    ) -> dict[str, Any]:
        """Opens a case through the operator API; returns the case."""
        body: dict[str, Any] = {
            "order_id": str(order_id), "type": case_type, "reason": reason,
            "description": "茶叶受潮", "lines": [{"sku": s, "quantity": q} for s, q in lines],
        }  # fmt: skip
        if amount is not None:
            body["refund_amount"] = amount
        headers = {**OPS, "Idempotency-Key": key or str(uuid.uuid4())}
        response = await self.client.post("/aftersales", json=body, headers=headers)
        assert response.status_code == expect, response.text
        data: dict[str, Any] = response.json()
        return data

    async def act(
        self, case_id: str, action: str, body: dict[str, Any] | None = None, *, expect: int = 200
    ) -> dict[str, Any]:
        """approve / reject / refund (ops) or return-received (warehouse)."""
        headers = WAREHOUSE_STAFF if action == "return-received" else OPS
        response = await self.client.post(
            f"/aftersales/{case_id}/{action}", json=body or {}, headers=headers
        )
        assert response.status_code == expect, response.text
        data: dict[str, Any] = response.json()
        return data

    async def case(self, case_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/aftersales/{case_id}", headers=OPS)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    async def events(self, topic: str, expect: int, settle_s: float = 1.0) -> list[Envelope]:
        records = await read_topic(
            self.bootstrap, self.prefix + topic, expect=expect, settle_s=settle_s
        )
        return [from_kafka(r.key, r.value, r.headers) for r in records]


async def consumed(engine: AsyncEngine) -> tuple[int, int]:
    """(events the aftersales consumer handled: its inbox, messages it dead-lettered)."""
    async with engine.connect() as conn:
        handled = await conn.execute(
            select(func.count()).select_from(inbox).where(inbox.c.consumer == "aftersales")
        )
        parked = await conn.execute(
            select(func.count())
            .select_from(dead_letters)
            .where(dead_letters.c.consumer == "aftersales")
        )
        return int(handled.scalar_one()), int(parked.scalar_one())


async def until_consumed(engine: AsyncEngine, count: int) -> tuple[int, int]:
    """Waits until `count` messages were handled or dead-lettered; returns consumed()."""

    async def probe() -> tuple[int, int]:
        return await consumed(engine)

    return await eventually(probe, lambda c: sum(c) >= count)


def webhook_body(placed: CanonicalOrder, case_type: str, **changes: Any) -> dict[str, Any]:
    """The canonical after-sale webhook for an order (docs/aftersales-format.md)."""
    body: dict[str, Any] = {
        "platform": placed.platform,
        "shop_id": placed.shop_id,
        "platform_order_id": placed.platform_order_id,
        "platform_aftersale_id": "AS" + uuid.uuid4().hex[:12],
        "type": case_type,
        "reason": "damaged_in_transit",
        "description": "杯子碎了",
        "lines": [{"sku": CUP, "quantity": 1}],
        "refund_amount": "39.90",
    }
    body.update(changes)
    return body


@asynccontextmanager
async def running(settings: AftersalesSettings, clock: ManualClock) -> AsyncIterator[Aftersales]:
    app = build_app(settings, clock=clock)
    async with serve(app) as client:
        yield Aftersales(
            app, client, clock, settings.kafka_bootstrap_servers, settings.topic_prefix
        )


# --- the platforms' after-sale pushes (lvyue.aftersales.platforms) --------------------------

PLATFORM_APPS = {
    "taobao": ("34567890", "b7e1c0ffee5a4d6e9f0a1b2c3d4e5f60"),
    "jd": ("7A3C19E05D2B4F6A8C1E2D3F4A5B6C7D", "5f1e2d3c4b5a69788796a5b4c3d2e1f0"),
    "pinduoduo": ("3f8e0d1c2b3a4f5e6d7c8b9a0f1e2d3c", "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"),
    "douyin": ("7123456789012345678", "2ad2355c-01d0-11f8-91dc-05a8cd1054b1"),
}
"""platform -> (app key, app secret) the after-sale pushes are signed with."""

PLATFORM_SECRETS = {
    "lvyue": relaying(WEBHOOK_SECRET, RELAYED),
    **{platform: {app: secret} for platform, (app, secret) in PLATFORM_APPS.items()},
}


def aftersale_sample(platform: str) -> dict[str, Any]:
    """tests/data/aftersales/<platform>.json: the platform's after-sale detail object."""
    data: dict[str, Any] = json.loads((DATA / "aftersales" / f"{platform}.json").read_bytes())
    return data


def with_order_id(
    platform: str, sample: dict[str, Any], platform_order_id: str, aftersale_id: int
) -> dict[str, Any]:
    """The sample linked to another order of the platform, as another after-sale."""
    body: dict[str, Any] = json.loads(json.dumps(sample))
    if platform == "taobao":
        body["refund"].update(tid=int(platform_order_id), refund_id=str(aftersale_id))
    elif platform == "jd":
        body["afsService"].update(orderId=platform_order_id, afsServiceId=aftersale_id)
    elif platform == "pinduoduo":
        body["refund_information_get_response"].update(order_sn=platform_order_id, id=aftersale_id)
    else:
        body["order_info"]["order_id"] = platform_order_id
        body["aftersale_info"]["aftersale_id"] = str(aftersale_id)
    return body


def platform_request(
    platform: str, body: bytes, *, at: datetime | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """(query, headers) of the push signed as the platform signs it, with PLATFORM_APPS' app."""
    app, secret = PLATFORM_APPS[platform]
    if platform == "taobao":
        return taobao_request(body, secret, app, at=at)
    if platform == "jd":
        return jd_request(body, secret, app, at=at)
    if platform == "pinduoduo":
        return pinduoduo_request(body, secret, app, at=at)
    return {}, douyin_headers(body, secret, app)
