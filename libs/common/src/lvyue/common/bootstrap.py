"""Wire once: build a process's engine, producer, unit-of-work factory and background workers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.common.clock import Clock, SystemClock
from lvyue.common.consumer import ConsumerRunner, RetryPolicy, Subscription
from lvyue.common.db import SessionFactory, make_engine, make_session_factory
from lvyue.common.deadlines.scanner import DeadlineScanner
from lvyue.common.deadlines.sla import SlaPolicies
from lvyue.common.events import all_topics
from lvyue.common.group_commit import GroupCommitter
from lvyue.common.kafka import ensure_topics, make_producer
from lvyue.common.outbox import OutboxRelay
from lvyue.common.replay import record_subscriptions
from lvyue.common.settings import KernelSettings
from lvyue.common.uow import UnitOfWorkFactory

log = structlog.get_logger(__name__)


@dataclass
class Kernel:
    """Everything a service process shares; built by `start_kernel`, torn down by `stop`."""

    settings: KernelSettings
    clock: Clock
    engine: AsyncEngine
    sessions: SessionFactory
    producer: AIOKafkaProducer
    uow: UnitOfWorkFactory
    relay: OutboxRelay
    scanner: DeadlineScanner
    consumer: ConsumerRunner | None
    sla: SlaPolicies
    group_commit: GroupCommitter
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def stop(self) -> None:
        """Stops in order: consumers finish their batch, the relay drains, connections close."""
        self._stop.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=30)
        if self.consumer is not None:
            await self.consumer.stop()
        if self.settings.outbox_enabled:
            with contextlib.suppress(Exception):
                drained = await self.relay.drain()
                log.info("outbox_drained", published=drained)
        await self.producer.stop()
        await self.engine.dispose()


BackgroundJob = Callable[["Kernel", asyncio.Event], Coroutine[Any, Any, None]]
"""A service's own periodic work (e.g. a daily scan); runs until the event is set."""


async def start_kernel(
    settings: KernelSettings,
    *,
    subscriptions: Sequence[Subscription] = (),
    background: Sequence[BackgroundJob] = (),
    clock: Clock | None = None,
) -> Kernel:
    clock = clock or SystemClock()
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    sessions = make_session_factory(engine)
    uow = UnitOfWorkFactory(sessions, source=f"/lvyue/{settings.service_name}", clock=clock)
    await ensure_topics(
        settings.kafka_bootstrap_servers,
        all_topics(settings.topic_prefix),
        partitions=settings.topic_partitions,
        replication_factor=settings.topic_replication_factor,
    )
    producer = make_producer(
        settings.kafka_bootstrap_servers, idempotent=settings.kafka_idempotent_producer
    )
    await producer.start()
    relay = OutboxRelay(
        sessions,
        producer,
        topic_prefix=settings.topic_prefix,
        batch_size=settings.outbox_batch_size,
        poll_interval_s=settings.outbox_poll_interval_s,
    )
    if settings.outbox_enabled:
        uow.on_events_committed = relay.notify
    scanner = DeadlineScanner(
        uow,
        service=settings.service_name,
        batch_size=settings.deadline_scan_batch_size,
        interval_s=settings.deadline_scan_interval_s,
        at_risk_fraction=settings.deadline_at_risk_fraction,
    )
    consumer = None
    if subscriptions and settings.consumers_enabled:
        consumer = ConsumerRunner(
            name=settings.service_name,
            subscriptions=subscriptions,
            uow_factory=uow,
            producer=producer,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            topic_prefix=settings.topic_prefix,
            session_timeout_ms=settings.consumer_session_timeout_ms,
            fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
            retry=RetryPolicy(
                max_attempts=settings.consumer_max_attempts,
                initial_s=settings.consumer_retry_initial_s,
                max_s=settings.consumer_retry_max_s,
            ),
        )
        await consumer.start()
        await record_subscriptions(sessions, consumer.name, [s.event.topic for s in subscriptions])
    kernel = Kernel(
        settings, clock, engine, sessions, producer, uow, relay, scanner, consumer,
        sla=settings.sla_catalog(),
        group_commit=GroupCommitter(uow, max_batch=settings.group_commit_max_batch),
    )  # fmt: skip
    if settings.outbox_enabled:
        kernel._tasks.append(asyncio.create_task(relay.run(kernel._stop), name="outbox-relay"))
    if settings.deadline_scanner_enabled:
        kernel._tasks.append(
            asyncio.create_task(scanner.run(kernel._stop), name="deadline-scanner")
        )
    if consumer is not None:
        kernel._tasks.append(asyncio.create_task(consumer.run(kernel._stop), name="consumer"))
    for job in background if settings.background_jobs_enabled else ():
        kernel._tasks.append(asyncio.create_task(job(kernel, kernel._stop), name=job.__name__))
    return kernel
