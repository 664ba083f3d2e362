"""Fulfilment fixtures: the app in-process on a fresh database, with a moved clock."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.cli.embedded import EmbeddedBroker
from lvyue.common.clock import ManualClock
from lvyue.common.db import make_engine
from lvyue.common.events import Envelope
from lvyue.common.events.codec import from_kafka
from lvyue.common.kafka import make_producer
from lvyue.fulfilment.hooks import DispatchHook
from lvyue.fulfilment.main import build_app
from tests.support.apps import serve
from tests.support.fulfilment import fulfilment_settings, processed
from tests.support.inventory import WAREHOUSE_STAFF, publish
from tests.support.kafka import read_topic
from tests.support.polling import eventually

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 19, 10, 0, tzinfo=SHANGHAI)  # a Thursday morning


@dataclass
class Fulfilment:
    client: httpx.AsyncClient
    clock: ManualClock
    producer: AIOKafkaProducer
    engine: AsyncEngine
    bootstrap: str
    prefix: str

    async def publish(self, *events: Envelope) -> None:
        await publish(self.producer, self.prefix, *events)

    async def wait_processed(self, count: int) -> None:
        await eventually(lambda: processed(self.engine), lambda n: n >= count)

    async def events(
        self, topic: str, expect: int, *, timeout_s: float = 15.0, settle_s: float = 1.0
    ) -> list[Envelope]:
        records = await read_topic(
            self.bootstrap,
            self.prefix + topic,
            expect=expect,
            timeout_s=timeout_s,
            settle_s=settle_s,
        )
        return [from_kafka(r.key, r.value, r.headers) for r in records]

    async def page(self, headers: dict[str, str] = WAREHOUSE_STAFF, **params: Any) -> Any:
        response = await self.client.get("/shipments", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    async def shipment_for(self, order_id: uuid.UUID) -> dict[str, Any]:
        page = await eventually(
            lambda: self.page(order_id=str(order_id)), lambda p: p["total"] == 1
        )
        shipment: dict[str, Any] = page["items"][0]
        return shipment

    async def get(self, shipment_id: str) -> dict[str, Any]:
        response = await self.client.get(f"/shipments/{shipment_id}", headers=WAREHOUSE_STAFF)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    async def until_status(self, shipment_id: str, status: str) -> dict[str, Any]:
        return await eventually(lambda: self.get(shipment_id), lambda s: s["status"] == status)

    async def dispatch(
        self,
        shipment_id: str,
        *,
        carrier: str = "SF",
        tracking: str = "SF1234567890",
        at: datetime | None = None,
        headers: dict[str, str] = WAREHOUSE_STAFF,
    ) -> httpx.Response:
        body = {
            "carrier_code": carrier,
            "tracking_number": tracking,
            "dispatched_at": (at or self.clock.now()).isoformat(),
        }
        return await self.client.post(
            f"/shipments/{shipment_id}/dispatch", json=body, headers=headers
        )

    def advance(self, **delta: float) -> None:
        self.clock.advance(timedelta(**delta))


StartFulfilment = Callable[..., AbstractAsyncContextManager[Fulfilment]]


@pytest.fixture
def fulfilment(fulfilment_db: str, broker: EmbeddedBroker, topic_prefix: str) -> StartFulfilment:
    @asynccontextmanager
    async def start(
        *, at: datetime = T0, dispatch_hooks: Sequence[DispatchHook] = (), **overrides: Any
    ) -> AsyncIterator[Fulfilment]:
        clock = ManualClock(at)
        settings = fulfilment_settings(
            fulfilment_db, broker.bootstrap_servers, topic_prefix, **overrides
        )
        engine = make_engine(fulfilment_db, pool_size=2, max_overflow=2)
        producer = make_producer(broker.bootstrap_servers, idempotent=False)
        await producer.start()
        try:
            app = build_app(settings, clock=clock, dispatch_hooks=dispatch_hooks)
            async with serve(app) as client:
                yield Fulfilment(
                    client, clock, producer, engine, broker.bootstrap_servers, topic_prefix
                )
        finally:
            await producer.stop()
            await engine.dispose()

    return start
