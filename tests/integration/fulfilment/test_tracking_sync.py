"""Tracking sync against a real HTTP server standing in for the platform, on the real database
and broker, with a clock that moves only when the test says so."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from lvyue.cli.embedded import EmbeddedBroker
from lvyue.common.clock import ManualClock
from lvyue.common.deadlines.scanner import DeadlineScanner
from lvyue.common.deadlines.store import find_unclosed, for_subject
from lvyue.common.events.catalog import SLA_BREACHED
from lvyue.common.kafka import make_producer
from lvyue.common.tables import outbox
from lvyue.fulfilment.settings import FulfilmentSettings
from lvyue.fulfilment.tracking import repository
from lvyue.fulfilment.tracking.records import SyncState
from tests.support.fake_platform import FakePlatform, Reply, running_platform
from tests.support.inventory import OPS, WAREHOUSE_STAFF
from tests.support.metrics import metric
from tests.support.polling import eventually
from tests.support.tracking import (
    PLATFORM_SECRET,
    T0,
    Dispatched,
    Service,
    dispatch_through_fulfilment,
    platform_api,
    service,
    settings_for,
)

ATTEMPTS = "lvyue_tracking_sync_attempts_total"
DOWN = Reply(503, {"error": "maintenance"})
TAOBAO_OK = Reply(200, {"logistics_offline_send_response": {"shipping": {"is_success": True}}})

MakeSettings = Callable[..., FulfilmentSettings]


@pytest.fixture
async def platform() -> AsyncIterator[FakePlatform]:
    async with running_platform() as fake:
        yield fake


@pytest.fixture
def make_settings(
    fulfilment_db: str, broker: EmbeddedBroker, topic_prefix: str, platform: FakePlatform
) -> MakeSettings:
    def build(**overrides: Any) -> FulfilmentSettings:
        apis = {
            "taobao": platform_api(f"{platform.base_url}/router/rest"),
            "lvyue": platform_api(platform.base_url),
        }
        values = {"platform_apis": apis, "consumers_enabled": False, **overrides}
        return settings_for(fulfilment_db, broker.bootstrap_servers, topic_prefix, **values)

    return build


@pytest.fixture
async def producer(broker: EmbeddedBroker) -> AsyncIterator[AIOKafkaProducer]:
    p = make_producer(broker.bootstrap_servers, idempotent=False)
    await p.start()
    yield p
    await p.stop()


def md5_sign(params: dict[str, str]) -> str:
    text = "".join(k + params[k] for k in sorted(params) if k != "sign")
    return hashlib.md5(f"{PLATFORM_SECRET}{text}{PLATFORM_SECRET}".encode()).hexdigest().upper()


async def test_a_platform_failing_three_times_has_the_tracking_number_after_four_attempts(
    make_settings: MakeSettings,
    platform: FakePlatform,
    producer: AIOKafkaProducer,
    topic_prefix: str,
) -> None:
    platform.script(DOWN, DOWN, DOWN, otherwise=TAOBAO_OK)
    retries, synced = (
        metric(ATTEMPTS, platform="taobao", outcome="retry"),
        metric(ATTEMPTS, platform="taobao", outcome="synced"),
    )
    settings = make_settings(consumers_enabled=True)
    async with service(settings, ManualClock(T0)) as svc, httpx.AsyncClient(timeout=2) as http:
        order_id, shipment_id = await dispatch_through_fulfilment(svc, producer, topic_prefix)
        worker = svc.worker(http)
        states = [(await svc.step(worker, shipment_id)).state for _ in range(4)]

        job = await svc.job(shipment_id)
        assert states == ["pending", "pending", "pending", "synced"]
        assert (job.attempts, job.last_status_code, job.last_error) == (4, 200, None)
        assert svc.clock.now() - T0 < timedelta(minutes=5)  # backoff 1 s, 2 s, 4 s (jittered)
        async with svc.uow() as uow:
            deadlines = await for_subject(uow.session, str(order_id))
        assert [(d.sla, d.state) for d in deadlines if d.sla == "tracking_sync"] == [
            ("tracking_sync", "met")
        ]

        assert len(platform.requests) == 4
        for request in platform.requests:
            assert (request.method, request.path) == ("POST", "/router/rest")
            params = request.form()
            assert params["sign"] == md5_sign(params)
            assert {k: params[k] for k in ("method", "app_key", "session", "out_sid")} == {
                "method": "taobao.logistics.offline.send",
                "app_key": "test-app-key",
                "session": "test-session",
                "out_sid": "SF1234567890",
            }
            assert params["company_code"] == "SF"
        tid = {r.form()["tid"] for r in platform.requests}
        assert tid == {job.push.platform_order_id}
        # nothing more is sent once synced, however often the worker looks
        svc.clock.advance(timedelta(hours=1))
        assert await worker.run_once() == 0
        assert len(platform.requests) == 4
    assert metric(ATTEMPTS, platform="taobao", outcome="retry") - retries == 3
    assert metric(ATTEMPTS, platform="taobao", outcome="synced") - synced == 1


async def test_a_platform_that_stays_down_fails_after_the_window_and_ops_re_drive_it(
    make_settings: MakeSettings, platform: FakePlatform
) -> None:
    platform.script(otherwise=DOWN)
    shipment = Dispatched(platform="lvyue")
    async with (
        service(make_settings(), ManualClock(T0)) as svc,
        httpx.AsyncClient(timeout=2) as http,
    ):
        await svc.enqueue(shipment)
        worker = svc.worker(http)
        for _ in range(30):
            job = await svc.step(worker, shipment.id)
            if job.state != SyncState.PENDING:
                break
        assert job.state == SyncState.FAILED
        assert job.window_started_at is not None
        assert job.failed_at is not None
        assert job.failed_at - job.window_started_at >= timedelta(seconds=60)
        assert job.attempts == len(platform.requests) > 3
        attempts_before = job.attempts

        failed = await svc.client.get("/tracking-syncs", params={"state": "failed"}, headers=OPS)
        assert failed.status_code == 200
        [item] = [i for i in failed.json()["items"] if i["shipment_id"] == str(shipment.id)]
        assert (item["state"], item["last_status_code"]) == ("failed", 503)
        assert "HTTP 503" in item["last_error"]
        forbidden = await svc.client.get("/tracking-syncs", headers=WAREHOUSE_STAFF)
        assert forbidden.status_code == 403

        platform.script(otherwise=Reply(204))  # the platform is back
        retry_url = f"/shipments/{shipment.id}/tracking-sync/retry"
        redriven = await svc.client.post(retry_url, headers=OPS)
        assert redriven.status_code == 202, redriven.text
        assert redriven.json()["state"] == "pending"
        assert redriven.json()["attempts"] == attempts_before
        again = await svc.client.post(retry_url, headers=OPS)
        assert (again.status_code, again.json()["state"]) == (200, "pending")

        job = await svc.step(worker, shipment.id)
        assert (job.state, job.attempts) == (SyncState.SYNCED, attempts_before + 1)
        assert (await svc.client.post(retry_url, headers=OPS)).status_code == 409
        unknown = f"/shipments/{uuid.uuid4()}/tracking-sync/retry"
        assert (await svc.client.post(unknown, headers=OPS)).status_code == 404

    last = platform.requests[-1]
    assert (last.method, last.path) == ("POST", "/shipments")
    assert last.headers["x-lvyue-delivery"] == str(shipment.id)
    signed = f"{last.headers['x-lvyue-timestamp']}.".encode() + last.body
    digest = hmac.new(PLATFORM_SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert last.headers["x-lvyue-signature"] == f"sha256={digest}"
    body = last.json()
    assert datetime.fromisoformat(body.pop("dispatched_at")) == T0
    assert body == {
        "order_id": shipment.platform_order_id,
        "carrier_code": "SF",
        "tracking_number": shipment.tracking_number,
        "shop_id": "shop-1",
        "shipment_id": str(shipment.id),
        "lvyue_order_id": str(shipment.order_id),
    }


async def _attempts(svc: Service, shipment_id: uuid.UUID) -> tuple[int, str, bool]:
    job = await svc.job(shipment_id)
    return job.attempts, job.state, job.lease_token is None


async def test_retry_state_survives_a_restart_and_nothing_is_sent_twice(
    make_settings: MakeSettings, platform: FakePlatform
) -> None:
    platform.script(DOWN, DOWN, DOWN)
    settings, clock, shipment = make_settings(), ManualClock(T0), Dispatched()

    async def next_attempt(svc: Service, attempts: int) -> None:
        clock.set(max(clock.now(), (await svc.job(shipment.id)).next_attempt_at))
        await eventually(lambda: _attempts(svc, shipment.id), lambda a: a[0] == attempts and a[2])

    async with service(settings, clock, background=True) as svc:
        await svc.enqueue(shipment)
        await next_attempt(svc, 1)
        await next_attempt(svc, 2)
    assert len(platform.requests) == 2

    async with service(settings, clock, background=True) as svc:  # a new process
        await next_attempt(svc, 3)
        await next_attempt(svc, 4)
        job = await svc.job(shipment.id)
        assert (job.state, job.attempts) == (SyncState.SYNCED, 4)
        for _ in range(3):
            clock.advance(timedelta(minutes=10))
            await asyncio.sleep(0.2)  # several polls of the background worker
    assert len(platform.requests) == 4
    assert {r.headers["x-lvyue-delivery"] for r in platform.requests} == {str(shipment.id)}


async def test_a_crashed_workers_lease_runs_out_and_its_late_answer_changes_nothing(
    make_settings: MakeSettings, platform: FakePlatform
) -> None:
    shipment = Dispatched()
    async with service(make_settings(), ManualClock(T0)) as svc, httpx.AsyncClient() as http:
        await svc.enqueue(shipment)
        crashed = uuid.uuid4()
        async with svc.uow() as uow:  # a worker claims the job, then dies mid-call
            now = uow.clock.now()
            await repository.lease(
                uow.session, [shipment.id], now=now, until=now + timedelta(seconds=60),
                token=crashed,
            )  # fmt: skip
            await uow.commit()
        worker = svc.worker(http)
        assert await worker.run_once() == 0  # still leased: nobody else calls meanwhile
        svc.clock.advance(timedelta(seconds=61))
        assert await worker.run_once() == 1
        job = await svc.job(shipment.id)
        assert (job.state, job.attempts) == (SyncState.SYNCED, 2)
        async with svc.uow() as uow:
            assert await repository.lock_leased(uow.session, shipment.id, crashed) is None
    assert len(platform.requests) == 1


async def test_two_workers_side_by_side_send_each_tracking_number_once(
    make_settings: MakeSettings, platform: FakePlatform
) -> None:
    platform.script(otherwise=Reply(200, delay_s=0.05))
    shipments = [Dispatched() for _ in range(12)]
    async with service(make_settings(), ManualClock(T0)) as svc, httpx.AsyncClient() as http:
        for shipment in shipments:
            await svc.enqueue(shipment)
        workers = [svc.worker(http, batch_size=3) for _ in range(2)]
        for _ in range(10):
            if sum(await asyncio.gather(*(w.run_once() for w in workers))) == 0:
                break
        states = {(await svc.job(s.id)).state for s in shipments}
    assert states == {SyncState.SYNCED}
    deliveries = [r.headers["x-lvyue-delivery"] for r in platform.requests]
    assert sorted(deliveries) == sorted(str(s.id) for s in shipments)


async def test_the_deadline_is_breached_once_when_the_platform_is_down_past_five_minutes(
    make_settings: MakeSettings, platform: FakePlatform
) -> None:
    platform.script(otherwise=DOWN)
    shipment = Dispatched()
    settings = make_settings(tracking_sync_give_up_after_s=3600, deadline_scanner_enabled=True)
    async with service(settings, ManualClock(T0)) as svc, httpx.AsyncClient() as http:
        await svc.enqueue(shipment)
        worker = svc.worker(http)
        while svc.clock.now() < T0 + timedelta(minutes=5, seconds=1):
            await svc.step(worker, shipment.id)
        scanners = [DeadlineScanner(svc.uow, service="fulfilment") for _ in range(2)]
        await asyncio.gather(*(s.scan_until_clear() for s in scanners))

        platform.script(otherwise=Reply(200))
        svc.clock.advance(timedelta(minutes=10))
        assert (await svc.step(worker, shipment.id)).state == SyncState.SYNCED
        await asyncio.gather(*(s.scan_until_clear() for s in scanners))
        await asyncio.sleep(0.5)  # the app's own scanner has had its turns too

        async with svc.uow() as uow:
            [deadline] = await for_subject(uow.session, str(shipment.order_id))
            breaches = await uow.session.scalar(
                select(func.count())
                .select_from(outbox)
                .where(outbox.c.topic == SLA_BREACHED.topic, outbox.c.key == str(shipment.order_id))
            )
    assert (deadline.sla, deadline.state) == ("tracking_sync", "breached")
    assert deadline.closed_at is not None  # closed when the sync succeeded, still a breach
    assert breaches == 1


async def test_a_platform_without_an_api_is_skipped_visibly_not_dropped(
    make_settings: MakeSettings, platform: FakePlatform
) -> None:
    shipment = Dispatched(platform="weidian")
    skipped_before = metric("lvyue_tracking_syncs_skipped_total", platform="other")
    async with service(make_settings(), ManualClock(T0)) as svc, httpx.AsyncClient() as http:
        await svc.enqueue(shipment)
        job = await svc.job(shipment.id)  # recorded as skipped at the dispatch itself
        assert (job.state, job.attempts) == (SyncState.SKIPPED, 0)
        async with svc.uow() as uow:  # a promise nothing can keep is not tracked
            assert (
                await find_unclosed(
                    uow.session, sla="tracking_sync", subject=str(shipment.order_id)
                )
                is None
            )
        worker = svc.worker(http)
        assert await worker.run_once() == 0  # nothing left for the worker
        listed = await svc.client.get("/tracking-syncs", params={"state": "skipped"}, headers=OPS)
        assert [i["shipment_id"] for i in listed.json()["items"]] == [str(shipment.id)]
        assert "no API configured" in listed.json()["items"][0]["last_error"]
        await worker.refresh_gauge()
        assert metric("lvyue_tracking_syncs", state="skipped") == 1
    assert platform.requests == []
    assert metric("lvyue_tracking_syncs_skipped_total", platform="other") - skipped_before == 1
