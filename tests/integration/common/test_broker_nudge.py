"""The embedded broker's defect (1) and its workaround, against the real Tansu.

When produce requests race to one partition, Tansu 0.6.0 (memory) can keep the partition's last
acked record(s) invisible to every fetch until another record is written there. With
`LVYUE_KAFKA_NUDGE_QUIET_MS` (on under `lvyue run` with the embedded broker) a producer writes a
nudge to each partition it wrote to once that partition is quiet, so the last record is visible
within the quiet interval; consumers and topic readers skip nudges.

The race is probabilistic (about one racing burst in a few hundred leaves its tail invisible on
this 2-core machine), so the defect is searched for in a bounded number of bursts.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.cli.embedded import (
    BROKER_FETCH_MAX_WAIT_MS,
    BROKER_NUDGE_QUIET_MS,
    BROKER_OFFSET_GAP_WAIT_MS,
    EmbeddedBroker,
)
from lvyue.common.clock import SystemClock
from lvyue.common.consumer import ConsumerRunner, RetryPolicy, Subscription
from lvyue.common.db import make_engine, make_session_factory
from lvyue.common.events import Envelope, all_topics, new_event
from lvyue.common.events.codec import to_kafka
from lvyue.common.kafka import ensure_topics, make_producer
from lvyue.common.nudge import PartitionNudger, is_nudge
from lvyue.common.outbox import OutboxRelay
from lvyue.common.tables import dead_letters, inbox
from lvyue.common.uow import UnitOfWork, UnitOfWorkFactory
from lvyue.order_review.migrations import MIGRATIONS
from tests.conftest import Databases
from tests.support.events import PING, Ping
from tests.support.kafka import read_topic
from tests.support.kernel import consuming, wired
from tests.support.metrics import metric
from tests.support.polling import eventually

QUIET_S = 0.05  # shorter than lvyue run's 150 ms: the bursts follow each other faster
VISIBLE_WITHIN_S = 0.5  # a visible record is fetched within one fetch wait (100 ms)
NUDGED_WITHIN_S = 1.0  # quiet interval + nudge + fetch wait, with room on a busy machine
SEARCH_S = 60.0  # bounded search for the defect without nudges

T = TypeVar("T")


@dataclass
class Race:
    """Producers that each send one record to partition 0 of a fresh topic at the same time,
    and a reader that checks which acked offsets a fetch returns."""

    topic: str
    producers: list[AIOKafkaProducer]
    reader: AIOKafkaConsumer
    nudgers: list[PartitionNudger] = field(default_factory=list)

    @property
    def partition(self) -> TopicPartition:
        return TopicPartition(self.topic, 0)

    async def burst(self) -> list[int]:
        async def one(index: int, producer: AIOKafkaProducer) -> int:
            meta = await producer.send_and_wait(
                self.topic, value=b"record", key=b"order-1", partition=0
            )
            if self.nudgers:
                self.nudgers[index].written([meta])
            return int(meta.offset)

        return list(await asyncio.gather(*(one(i, p) for i, p in enumerate(self.producers))))

    async def write_one(self) -> None:
        await self.producers[0].send_and_wait(self.topic, value=b"one more", partition=0)

    async def invisible(self, acked: list[int], *, within_s: float) -> set[int]:
        """The acked offsets a fetch from the burst's start has not returned within `within_s`
        (read afresh each time: a reader that tailed during the race is not the question)."""
        tp = self.partition
        seen: set[int] = set()
        deadline = time.monotonic() + within_s
        while not set(acked) <= seen and time.monotonic() < deadline:
            self.reader.seek(tp, min(acked))
            batches = await self.reader.getmany(tp, timeout_ms=100)
            seen.update(r.offset for r in batches.get(tp, []) if not is_nudge(r.value, r.headers))
        return set(acked) - seen

    async def quiet(self) -> None:
        """Until every nudger has nudged what it was told about."""
        await eventually(
            lambda: _async(sum(n.pending for n in self.nudgers)),
            lambda pending: pending == 0,
            timeout_s=5.0,
            interval_s=0.01,
        )
        await asyncio.sleep(0.02)  # the nudges sent: acked


@asynccontextmanager
async def racing(broker: EmbeddedBroker, *, producers: int, nudge: bool) -> AsyncIterator[Race]:
    bootstrap = broker.bootstrap_servers
    topic = f"race-{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [topic], partitions=1, replication_factor=1)
    stop = asyncio.Event()
    async with AsyncExitStack() as stack:
        started: list[AIOKafkaProducer] = []
        for _ in range(producers):
            producer = make_producer(bootstrap, idempotent=False)
            await producer.start()
            stack.push_async_callback(producer.stop)
            started.append(producer)
        reader = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=5,  # the embedded broker holds every fetch this long
        )
        await reader.start()
        stack.push_async_callback(reader.stop)
        reader.assign([TopicPartition(topic, 0)])
        race = Race(topic, started, reader)
        if nudge:
            race.nudgers = [PartitionNudger(p, quiet_s=QUIET_S) for p in started]
            stack.push_async_callback(
                _join, [asyncio.create_task(n.run(stop)) for n in race.nudgers]
            )
            stack.callback(stop.set)
        yield race


async def test_without_nudges_racing_producers_can_leave_the_last_record_invisible(
    broker: EmbeddedBroker,
) -> None:
    """The known defect (1), shown: acked, not fetched, fetched once one more record came."""
    async with racing(broker, producers=8, nudge=False) as race:
        bursts = 0
        other = 0
        deadline = time.monotonic() + SEARCH_S
        while time.monotonic() < deadline:
            bursts += 1
            acked = await race.burst()
            hidden = await race.invisible(acked, within_s=VISIBLE_WITHIN_S)
            if not hidden:
                continue
            await race.write_one()
            if await race.invisible(acked, within_s=2.0):
                other += 1  # not this defect: keep looking
                continue
            # The tail: the newest acked records, and nothing before them.
            assert hidden == set(range(min(hidden), max(acked) + 1)), (hidden, sorted(acked))
            print(f"defect (1) after {bursts} racing bursts: offsets {sorted(hidden)} hidden")
            return
    pytest.skip(
        f"the embedded broker kept no acked record invisible in {bursts} bursts of 8 racing "
        f"producers within {SEARCH_S:.0f} s ({other} other anomalies): defect (1) did not show"
    )


async def test_with_nudges_a_record_the_race_hid_becomes_visible_without_another_write(
    broker: EmbeddedBroker,
) -> None:
    """The same races, each producer nudging the partition it wrote to as the relay does: racing
    bursts until one hits the defect (acked records still invisible when the nudges fall due),
    and every burst's records, that one's too, are fetched within the bound with nothing else
    written. Without the nudges the hit burst's records would stay invisible (the test above)."""
    async with racing(broker, producers=8, nudge=True) as race:
        bursts = 0
        rescued: list[list[int]] = []
        deadline = time.monotonic() + SEARCH_S
        while time.monotonic() < deadline and (not rescued or bursts < 100):
            bursts += 1
            acked = await race.burst()
            # Before any nudge is due: what the defect hides is still hidden now.
            early = await race.invisible(acked, within_s=QUIET_S * 0.8)
            if not early:
                continue
            hidden = await race.invisible(acked, within_s=NUDGED_WITHIN_S)
            assert not hidden, f"acked offsets {sorted(hidden)} still invisible after nudges"
            rescued.append(sorted(early))
        nudged = metric("lvyue_kafka_nudges_total", topic=race.topic)
    if not rescued:
        pytest.skip(
            f"defect (1) did not show in {bursts} racing bursts within {SEARCH_S:.0f} s: "
            "every record was visible before its nudge"
        )
    assert nudged >= 1
    print(f"{len(rescued)} of {bursts} bursts hid {rescued} until nudged ({nudged:.0f} nudges)")


async def test_a_busy_partition_gets_no_nudge_until_it_is_quiet(broker: EmbeddedBroker) -> None:
    """Under load the nudges stay off the path: none while writes keep coming."""
    async with racing(broker, producers=1, nudge=True) as race:
        until = time.monotonic() + 1.0
        writes = 0
        while time.monotonic() < until:
            await race.burst()
            writes += 1
            await asyncio.sleep(QUIET_S / 3)
        assert metric("lvyue_kafka_nudges_total", topic=race.topic) == 0
        assert writes > 10
        await race.quiet()
        assert metric("lvyue_kafka_nudges_total", topic=race.topic) == 1


@dataclass
class Service:
    """One service's outbox and relay (own database, own producer), nudging as bootstrap wires
    it under `lvyue run` with the embedded broker."""

    uow: UnitOfWorkFactory
    relay: OutboxRelay
    nudger: PartitionNudger


ROUND_S = 15.0


async def test_the_last_event_is_consumed_without_a_further_event_when_relays_race(
    databases: Databases, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    """Four services' relays publish to one partition at once, round after round, and the
    project's consumer handles each round's last event with nothing written after it; nudges
    reach no handler, no inbox and no dead-letter topic."""
    bootstrap = broker.bootstrap_servers
    await ensure_topics(bootstrap, all_topics(topic_prefix), partitions=1, replication_factor=1)
    handled: list[int] = []

    async def handle(event: Envelope, uow: UnitOfWork) -> None:
        handled.append(event.payload(Ping).n)

    stop = asyncio.Event()
    async with AsyncExitStack() as stack:
        services: list[Service] = []
        engines = []
        for _ in range(4):
            engine = make_engine(await databases.create(MIGRATIONS), pool_size=2, max_overflow=2)
            stack.push_async_callback(engine.dispose)
            engines.append(engine)
            producer = make_producer(bootstrap, idempotent=False)
            await producer.start()
            stack.push_async_callback(producer.stop)
            sessions = make_session_factory(engine)
            uow = UnitOfWorkFactory(sessions, source="/lvyue/test", clock=SystemClock())
            nudger = PartitionNudger(producer, quiet_s=BROKER_NUDGE_QUIET_MS / 1000)
            relay = OutboxRelay(sessions, producer, topic_prefix=topic_prefix, nudger=nudger)
            uow.on_events_committed = relay.notify
            services.append(Service(uow, relay, nudger))
        runner = ConsumerRunner(
            name="nudged-consumer",
            subscriptions=[Subscription(PING, handle)],
            uow_factory=services[0].uow,
            producer=producer,
            bootstrap_servers=bootstrap,
            fetch_max_wait_ms=BROKER_FETCH_MAX_WAIT_MS,
            topic_prefix=topic_prefix,
            session_timeout_ms=2000,
            # As `lvyue run` wires it: racing writes also trip the broker's other defect (a
            # fetch skipping a record not stored yet), which is the gap guard's to handle.
            offset_gap_wait_s=BROKER_OFFSET_GAP_WAIT_MS / 1000,
        )
        await runner.start()
        stack.push_async_callback(runner.stop)
        tasks = [asyncio.create_task(runner.run(stop))]
        for service in services:
            tasks += [asyncio.create_task(service.relay.run(stop))]
            tasks += [asyncio.create_task(service.nudger.run(stop))]
        stack.push_async_callback(_join, tasks)
        stack.callback(stop.set)
        await eventually(lambda: _async(runner.assignment and runner.assignment.partitions), bool)

        async def emit(service: Service, n: int) -> None:
            async with service.uow() as uow:
                await uow.emit(PING, Ping(n=n), subject="order-1")
                await uow.commit()

        rounds = 25
        for r in range(rounds):
            numbers = [r * 10 + i for i in range(len(services))]
            await asyncio.gather(*(emit(s, n) for s, n in zip(services, numbers, strict=True)))
            # Nothing more is written (but nudges) until every event of the round is handled:
            # an event the race hid and no nudge uncovered is never handled, however long the
            # wait. The bound is generous for a loaded machine (3 s was once too short).
            want = set(numbers)
            await eventually(
                lambda: _async(set(handled)), want.issubset, timeout_s=ROUND_S, interval_s=0.02
            )
            # A quiet partition: each relay nudges it once; the consumer commits past them.
            await eventually(
                lambda: _async(sum(s.nudger.pending for s in services)),
                lambda pending: pending == 0,
                timeout_s=ROUND_S,
                interval_s=0.02,
            )
        nudges = metric("lvyue_kafka_nudges_total", topic=topic_prefix + PING.topic)
        assert sorted(handled) == sorted(r * 10 + i for r in range(rounds) for i in range(4))
        async with engines[0].connect() as conn:
            inboxed = (await conn.execute(select(func.count()).select_from(inbox))).scalar()
            parked = (await conn.execute(select(func.count()).select_from(dead_letters))).scalar()
        assert (inboxed, parked) == (rounds * 4, 0)
    assert nudges >= rounds * 4 - 4  # each relay nudged after each round (the last maybe not yet)
    records = await read_topic(bootstrap, topic_prefix + PING.topic, expect=rounds * 4)
    assert len(records) == rounds * 4  # the topic readers of the tests skip nudges too
    assert not await read_topic(bootstrap, topic_prefix + "test.ping.dlq", expect=0, settle_s=0.5)


async def _async(value: T) -> T:
    return value


async def _join(tasks: list[asyncio.Task[None]]) -> None:
    await asyncio.gather(*tasks)


async def test_a_nudge_among_a_poison_message_is_skipped_on_the_one_by_one_path_too(
    engine: AsyncEngine, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    """A poll with an unreadable message is handled one by one: the event is handled, the
    unreadable message parked, and the nudge between them neither handled nor parked."""
    handled: list[int] = []

    async def handle(event: Envelope, uow: UnitOfWork) -> None:
        handled.append(event.payload(Ping).n)

    topic = topic_prefix + PING.topic
    async with wired(engine, broker.bootstrap_servers, topic_prefix) as w:
        envelope = new_event(PING, Ping(n=7), subject="order-1", source="/t", time=_now())
        key, value, headers = to_kafka(envelope)
        meta = await w.producer.send_and_wait(topic, value=value, key=key, headers=headers)
        nudger = PartitionNudger(w.producer, quiet_s=0.0)
        nudger.written([meta])
        assert await nudger.flush() == 1
        await w.producer.send_and_wait(topic, value=b"not an event", key=key)
        runner = ConsumerRunner(
            name="nudged-one-by-one",
            subscriptions=[Subscription(PING, handle)],
            uow_factory=w.uow,
            producer=w.producer,
            bootstrap_servers=broker.bootstrap_servers,
            fetch_max_wait_ms=BROKER_FETCH_MAX_WAIT_MS,
            topic_prefix=topic_prefix,
            retry=RetryPolicy(max_attempts=1, initial_s=0.01, max_s=0.01),
            session_timeout_ms=2000,
        )
        async with consuming(runner):
            await eventually(lambda: _count(engine, dead_letters), lambda n: n >= 1)
            await asyncio.sleep(0.3)  # anything else would be parked by now
        assert handled == [7]
        assert await _count(engine, dead_letters) == 1
        assert await _count(engine, inbox) == 1
    [parked] = await read_topic(broker.bootstrap_servers, topic + ".dlq", expect=1)
    assert parked.value == b"not an event"


async def _count(engine: AsyncEngine, table: Table) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


def _now() -> datetime:
    return datetime.now(UTC)
