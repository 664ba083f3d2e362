"""The consumer runner against the real broker and PostgreSQL: inbox, retries, dead letters."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.cli.embedded import BROKER_FETCH_MAX_WAIT_MS, EmbeddedBroker
from lvyue.common.consumer import ConsumerRunner, RetryPolicy, Subscription
from lvyue.common.deadlines.store import open_deadline
from lvyue.common.events import Envelope
from lvyue.common.tables import dead_letters, deadlines, inbox
from lvyue.common.uow import UnitOfWork
from tests.support.events import PING, Ping
from tests.support.kafka import read_topic
from tests.support.kernel import wired


async def _wait_for(predicate, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.1)


async def _count(engine: AsyncEngine, table) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_failing_handler_retries_then_dead_letters_and_the_partition_moves_on(
    engine: AsyncEngine, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    calls: Counter[int] = Counter()

    async def handle(event: Envelope, uow: UnitOfWork) -> None:
        ping = event.payload(Ping)
        calls[ping.n] += 1
        if ping.poison:
            raise RuntimeError(f"cannot handle ping {ping.n}: receiver 13812345678 unreachable")
        now = uow.clock.now()
        # a real effect in the database, so a second application would show
        await open_deadline(uow, sla="test", subject=f"ping-{ping.n}", opened_at=now, due_at=now)

    async with wired(engine, broker.bootstrap_servers, topic_prefix) as w:
        # one key: all three land on one partition, behind each other
        for n, poison in ((1, False), (2, True), (3, False)):
            async with w.uow() as uow:
                await uow.emit(PING, Ping(n=n, poison=poison), subject="order-1")
                await uow.commit()
        assert await w.relay.drain() == 3

        runner = ConsumerRunner(
            name="test-consumer",
            subscriptions=[Subscription(PING, handle)],
            uow_factory=w.uow,
            producer=w.producer,
            bootstrap_servers=broker.bootstrap_servers,
            fetch_max_wait_ms=BROKER_FETCH_MAX_WAIT_MS,
            topic_prefix=topic_prefix,
            retry=RetryPolicy(max_attempts=3, initial_s=0.01, max_s=0.05),
        )
        await runner.start()
        stop = asyncio.Event()
        task = asyncio.create_task(runner.run(stop))
        try:
            await _wait_for(lambda: _count_async(engine, deadlines, 2))
            await _wait_for(lambda: _count_async(engine, dead_letters, 1))

            # redeliver event 1 with its original id: the inbox makes it a no-op
            async with engine.connect() as conn:
                first_id = (
                    (await conn.execute(select(inbox.c.event_id).order_by(inbox.c.processed_at)))
                    .scalars()
                    .first()
                )
            assert first_id is not None
            calls_before_redelivery = calls.copy()
            from lvyue.common.outbox import message_of  # the very same event again
            from lvyue.common.tables import outbox

            async with engine.connect() as conn:
                row = (
                    await conn.execute(select(outbox).where(outbox.c.event_id == first_id))
                ).one()
            key, value, headers = message_of(row._mapping)
            await w.producer.send_and_wait(
                topic_prefix + "test.ping", value=value, key=key, headers=headers
            )
            async with w.uow() as uow:
                await uow.emit(PING, Ping(n=4), subject="order-1")
                await uow.commit()
            await w.relay.drain()
            await _wait_for(lambda: _count_async(engine, deadlines, 3))
        finally:
            stop.set()
            await task
            await runner.stop()

    # 1 redelivered under its own id: not handled again (the inbox); 4 handled once.
    assert calls[1] == calls_before_redelivery[1]
    assert calls[4] == 1
    # 2 failed its batch (which was then rolled back and handled one by one), then was tried
    # max_attempts times on its own.
    assert calls[2] >= 3
    assert await _count(engine, deadlines) == 3
    async with engine.connect() as conn:
        letter = (await conn.execute(select(dead_letters))).one()
    assert letter.attempts == 3
    assert "cannot handle ping 2: receiver 138****5678 unreachable" in letter.error
    dlq = await read_topic(broker.bootstrap_servers, topic_prefix + "test.ping.dlq", expect=1)
    assert len(dlq) == 1
    dlq_headers = dict(dlq[0].headers)
    # the error is shown to SREs and travels with the message: masked as logs are
    assert b"cannot handle ping 2: receiver 138****5678 unreachable" in dlq_headers["lvyue_error"]
    assert dlq_headers["ce_type"] == b"lvyue.test.ping"
    assert dlq[0].key == b"order-1"


async def _count_async(engine: AsyncEngine, table, at_least: int) -> bool:
    return await _count(engine, table) >= at_least
