"""Tracking sync and logistics under test: fulfilment's app with both plugged in, a clock that
only moves when told, workers driven step by step, and a dispatched shipment to start from."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from aiokafka import AIOKafkaProducer

from lvyue.common.clock import ManualClock
from lvyue.common.uow import UnitOfWorkFactory
from lvyue.fulfilment.logistics import wiring as logistics_wiring
from lvyue.fulfilment.main import build_app
from lvyue.fulfilment.settings import FulfilmentSettings
from lvyue.fulfilment.tracking import repository
from lvyue.fulfilment.tracking import wiring as tracking_wiring
from lvyue.fulfilment.tracking.policy import RetryPolicy
from lvyue.fulfilment.tracking.records import SyncJob
from lvyue.fulfilment.tracking.worker import TrackingSyncWorker
from tests.support.apps import serve
from tests.support.fulfilment import fulfilment_settings, order_reviewed
from tests.support.inventory import WAREHOUSE_STAFF, publish
from tests.support.polling import eventually

T0 = datetime(2026, 11, 19, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Thursday morning
PLATFORM_SECRET = "test-platform-api-secret"


def settings_for(
    database_url: str, bootstrap: str, prefix: str, **overrides: Any
) -> FulfilmentSettings:
    values: dict[str, Any] = {
        "tracking_sync_initial_backoff_s": 1.0,
        "tracking_sync_max_backoff_s": 8.0,
        "tracking_sync_give_up_after_s": 60.0,
        "tracking_sync_poll_interval_s": 0.05,
        "tracking_sync_timeout_s": 2.0,
        "logistics_check_interval_s": 0.1,
        "sla_policies": {},  # the real 5-minute tracking_sync policy
        **overrides,
    }
    return fulfilment_settings(database_url, bootstrap, prefix, **values)


def platform_api(base_url: str, **fields: str) -> dict[str, str]:
    return {"base_url": base_url, "app_key": "test-app-key", "app_secret": PLATFORM_SECRET,
            "access_token": "test-session", **fields}  # fmt: skip


@dataclass(frozen=True)
class Dispatched:
    """Stands in for fulfilment's ShipmentRecord where a test calls the hooks itself."""

    platform: str = "lvyue"
    shop_id: str = "shop-1"
    platform_order_id: str = field(default_factory=lambda: str(uuid.uuid4().int)[:18])
    carrier_code: str | None = "SF"
    tracking_number: str | None = field(
        default_factory=lambda: f"SF{random.randrange(10**12):012d}"
    )
    dispatched_at: datetime | None = T0
    warehouse_id: str = "WH-SH-01"
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    order_id: uuid.UUID = field(default_factory=uuid.uuid4)
    aftersale_id: uuid.UUID | None = None  # an exchange's replacement


@dataclass
class Service:
    client: httpx.AsyncClient
    clock: ManualClock
    settings: FulfilmentSettings
    uow: UnitOfWorkFactory

    def worker(self, client: httpx.AsyncClient, **kw: Any) -> TrackingSyncWorker:
        """A worker as the background job builds it, to be driven with run_once()."""
        return TrackingSyncWorker(
            self.uow, client, apis=self.settings.platform_apis,
            policy=RetryPolicy.from_settings(self.settings), **kw,
        )  # fmt: skip

    async def job(self, shipment_id: uuid.UUID) -> SyncJob:
        async with self.uow() as uow:
            job = await repository.get_job(uow.session, shipment_id)
        assert job is not None, f"no tracking sync for {shipment_id}"
        return job

    async def enqueue(self, shipment: Dispatched) -> None:
        """What a dispatch does to tracking and logistics: run their hooks in one transaction."""
        hooks = [*tracking_wiring.dispatch_hooks(self.settings)]
        hooks += logistics_wiring.dispatch_hooks(self.settings)
        async with self.uow() as uow:
            for hook in hooks:
                await hook(uow, shipment)  # type: ignore[arg-type]
            await uow.commit()

    async def step(self, worker: TrackingSyncWorker, shipment_id: uuid.UUID) -> SyncJob:
        """Moves the clock to the job's next attempt and lets the worker make it."""
        job = await self.job(shipment_id)
        self.clock.set(max(self.clock.now(), job.next_attempt_at))
        await worker.run_once()
        return await self.job(shipment_id)


@asynccontextmanager
async def service(
    settings: FulfilmentSettings, clock: ManualClock, *, background: bool = False
) -> AsyncIterator[Service]:
    """Fulfilment's app with tracking sync and logistics wired in as main.py wires them."""
    app = build_app(settings, clock=clock, sync_workers=background)
    async with serve(app) as client:
        yield Service(client, clock, settings, app.state.kernel.uow)


async def dispatch_through_fulfilment(
    svc: Service, producer: AIOKafkaProducer, prefix: str, *, tracking: str = "SF1234567890"
) -> tuple[uuid.UUID, uuid.UUID]:
    """order.reviewed on the broker -> a pending shipment -> the warehouse's dispatch API."""
    order_id = uuid.uuid4()
    await publish(producer, prefix, order_reviewed(order_id, reviewed_at=svc.clock.now()))

    async def page() -> Any:
        params = {"order_id": str(order_id)}
        return (await svc.client.get("/shipments", params=params, headers=WAREHOUSE_STAFF)).json()

    found = await eventually(page, lambda p: p["total"] == 1)
    shipment_id = uuid.UUID(found["items"][0]["id"])
    body = {"carrier_code": "SF", "tracking_number": tracking,
            "dispatched_at": (svc.clock.now() - timedelta(minutes=1)).isoformat()}  # fmt: skip
    response = await svc.client.post(
        f"/shipments/{shipment_id}/dispatch", json=body, headers=WAREHOUSE_STAFF
    )
    assert response.status_code == 200, response.text
    return order_id, shipment_id
