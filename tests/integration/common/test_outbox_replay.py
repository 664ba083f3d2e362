"""Replay into a broker that lost its log, against the real PostgreSQL and a real broker that is
started afresh (empty) each round: only what was in flight is published again."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.cli.embedded import BROKER_FETCH_MAX_WAIT_MS, EmbeddedBroker
from lvyue.common.clock import SystemClock
from lvyue.common.consumer import ConsumerRunner, Subscription
from lvyue.common.db import make_engine, make_session_factory
from lvyue.common.events import Envelope
from lvyue.common.replay import record_subscriptions, replay_unconsumed
from lvyue.common.tables import inbox
from lvyue.common.uow import UnitOfWork, UnitOfWorkFactory
from tests.support.events import PING, PONG, Ping, Pong
from tests.support.kernel import consuming, wired
from tests.support.polling import eventually

CONSUMER = "replay-test"
IN_FLIGHT_PER_ROUND = 5  # pings published, then the broker is lost before they are consumed


async def _now(engine: AsyncEngine) -> datetime:
    async with engine.connect() as conn:
        now: datetime = (await conn.execute(text("SELECT now()"))).scalar_one()
    return now


async def _processed(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        query = select(func.count()).select_from(inbox).where(inbox.c.consumer == CONSUMER)
        return int((await conn.execute(query)).scalar_one())


async def _wait_processed(engine: AsyncEngine, count: int) -> None:
    await eventually(lambda: _processed(engine), lambda c: c == count, timeout_s=30)


async def test_each_restart_replays_only_what_was_in_flight_never_the_history(
    order_review_db: str, inventory_db: str, topic_prefix: str, tmp_path: Path
) -> None:
    producer_db = make_engine(order_review_db, pool_size=2, max_overflow=0)
    consumer_db = make_engine(inventory_db, pool_size=2, max_overflow=0)
    handled: Counter[int] = Counter()

    async def handle(event: Envelope, uow: UnitOfWork) -> None:
        handled[event.payload(Ping).n] += 1

    await record_subscriptions(make_session_factory(consumer_db), CONSUMER, [PING.topic])
    n = 0
    replayed: list[int] = []
    lost_broker_started_at: datetime | None = None
    try:
        for round_ in range(11):  # the first broker, then ten that replace a lost one
            broker = EmbeddedBroker(log_path=tmp_path / f"tansu-{round_}.log")
            broker.start()
            try:
                started_at = await _now(producer_db)
                if lost_broker_started_at is not None:
                    counts = await replay_unconsumed(
                        {"producer": order_review_db, "consumer": inventory_db},
                        lost_broker_started_at=lost_broker_started_at,
                    )
                    replayed.append(counts["producer"].requeued)
                lost_broker_started_at = started_at
                async with wired(producer_db, broker.bootstrap_servers, topic_prefix) as w:
                    # History the consumer processes: 40 the first round, 5 more each round.
                    for _ in range(40 if round_ == 0 else IN_FLIGHT_PER_ROUND):
                        n += 1
                        async with w.uow() as uow:
                            await uow.emit(PING, Ping(n=n), subject=f"order-{n}")
                            await uow.commit()
                    await w.relay.drain()
                    runner = ConsumerRunner(
                        name=CONSUMER,
                        subscriptions=[Subscription(PING, handle)],
                        uow_factory=UnitOfWorkFactory(
                            make_session_factory(consumer_db),
                            source="/lvyue/test",
                            clock=SystemClock(),
                        ),
                        producer=w.producer,
                        bootstrap_servers=broker.bootstrap_servers,
                        fetch_max_wait_ms=BROKER_FETCH_MAX_WAIT_MS,
                        topic_prefix=topic_prefix,
                        session_timeout_ms=2000,
                    )
                    async with consuming(runner):  # the replayed pings and this round's
                        await _wait_processed(consumer_db, n)
                    # In flight when the broker dies: published, not yet consumed.
                    for _ in range(IN_FLIGHT_PER_ROUND):
                        n += 1
                        async with w.uow() as uow:
                            await uow.emit(PING, Ping(n=n), subject=f"order-{n}")
                            await uow.emit(PONG, Pong(n=n), subject=f"order-{n}")
                            await uow.commit()
                    await w.relay.drain()
            finally:
                broker.stop()
    finally:
        await producer_db.dispose()
        await consumer_db.dispose()

    # Per lost broker: its unconsumed pings, and the pongs it was the first to receive (nobody
    # here can say whether a warehouse read them); never the pings consumed or replayed before.
    assert replayed == [2 * IN_FLIGHT_PER_ROUND] * 10
    assert set(handled.values()) == {1}  # every ping handled once, replays included
