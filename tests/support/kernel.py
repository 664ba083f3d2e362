"""Kernel pieces wired against the test database and broker, as bootstrap would wire them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.common.clock import Clock, SystemClock
from lvyue.common.consumer import ConsumerRunner
from lvyue.common.db import SessionFactory, make_session_factory
from lvyue.common.events import all_topics
from lvyue.common.kafka import ensure_topics, make_producer
from lvyue.common.outbox import OutboxRelay
from lvyue.common.uow import UnitOfWorkFactory


@dataclass
class Wiring:
    sessions: SessionFactory
    uow: UnitOfWorkFactory
    producer: AIOKafkaProducer
    relay: OutboxRelay
    bootstrap: str
    prefix: str


@asynccontextmanager
async def wired(
    engine: AsyncEngine, bootstrap: str, prefix: str, clock: Clock | None = None
) -> AsyncIterator[Wiring]:
    sessions = make_session_factory(engine)
    uow = UnitOfWorkFactory(sessions, source="/lvyue/test", clock=clock or SystemClock())
    await ensure_topics(bootstrap, all_topics(prefix), partitions=2, replication_factor=1)
    producer = make_producer(bootstrap, idempotent=False)
    await producer.start()
    try:
        relay = OutboxRelay(sessions, producer, topic_prefix=prefix)
        yield Wiring(sessions, uow, producer, relay, bootstrap, prefix)
    finally:
        await producer.stop()


@asynccontextmanager
async def consuming(runner: ConsumerRunner) -> AsyncIterator[None]:
    """The runner consuming until the block ends; then its batch finishes and it stops."""
    await runner.start()
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        yield
    finally:
        stop.set()
        await task
        await runner.stop()
