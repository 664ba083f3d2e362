"""A second defect of the embedded broker, found while reproducing defect (1), and its
workaround, against the real Tansu.

When produce requests race to one partition, Tansu 0.6.0 (memory) can answer a fetch with a
later record before an earlier acked one is stored: a consumer that tails the partition moves
past the earlier record and never reads it, although a fresh read from its offset returns it.
With `LVYUE_KAFKA_OFFSET_GAP_WAIT_MS` (on under `lvyue run` with the embedded broker) the
consumer runner keeps what came before the missing offset and reads the partition again from
it. The race is probabilistic (a few racing rounds in a hundred here), so both tests search
for it in a bounded time and skip, saying so, if it never shows.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.cli.embedded import BROKER_FETCH_MAX_WAIT_MS, EmbeddedBroker
from lvyue.common.consumer import ConsumerRunner, Handler, Subscription
from lvyue.common.events import Envelope, new_event
from lvyue.common.events.codec import to_kafka
from lvyue.common.kafka import make_producer
from lvyue.common.nudge import NUDGE_HEADER
from lvyue.common.uow import UnitOfWork
from tests.support.events import PING, Ping
from tests.support.kernel import Wiring, consuming, wired
from tests.support.metrics import metric
from tests.support.polling import eventually

PRODUCERS = 4
PER_PRODUCER = 50  # records each producer sends in a round, one request at a time
SEARCH_S = 60.0


@asynccontextmanager
async def producers(bootstrap: str) -> AsyncIterator[list[AIOKafkaProducer]]:
    async with AsyncExitStack() as stack:
        started = []
        for _ in range(PRODUCERS):
            producer = make_producer(bootstrap, idempotent=False)
            await producer.start()
            stack.push_async_callback(producer.stop)
            started.append(producer)
        yield started


async def _round(started: list[AIOKafkaProducer], topic: str, first: int) -> dict[int, int]:
    """Every producer sends its records to partition 0 at once: offset -> the record's n."""

    async def send(index: int, producer: AIOKafkaProducer) -> dict[int, int]:
        acked = {}
        for i in range(PER_PRODUCER):
            n = first + index * PER_PRODUCER + i
            envelope = new_event(PING, Ping(n=n), subject="order-1", source="/t", time=_now())
            key, value, headers = to_kafka(envelope)
            meta = await producer.send_and_wait(
                topic, value=value, key=key, headers=headers, partition=0
            )
            acked[meta.offset] = n
        return acked

    acked: dict[int, int] = {}
    for part in await asyncio.gather(*(send(i, p) for i, p in enumerate(started))):
        acked |= part
    return acked


async def test_without_the_guard_the_runner_can_skip_an_event_when_writes_race(
    engine: AsyncEngine, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    """The defect, shown through the project's consumer runner without the guard: after a
    racing round (and one more write) an acked event is never handled, though a fresh read
    from its offset returns it."""
    handled: set[int] = set()

    async def handle(event: Envelope, uow: UnitOfWork) -> None:
        handled.add(event.payload(Ping).n)

    topic = topic_prefix + PING.topic
    tp = TopicPartition(topic, 0)
    async with wired(engine, broker.bootstrap_servers, topic_prefix) as w:
        runner = _runner(w, handle, gap_wait_s=0.0)
        fresh = AIOKafkaConsumer(
            bootstrap_servers=broker.bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=5,
        )
        await fresh.start()
        fresh.assign([tp])
        # Settle the position now: a reset still pending when the search seeks below could
        # land after the seek and move the reader to the end, so it would read nothing.
        await fresh.position(tp)
        try:
            async with producers(broker.bootstrap_servers) as started, consuming(runner):
                await eventually(lambda: _partitions(runner), bool)
                rounds = 0
                deadline = time.monotonic() + SEARCH_S
                while time.monotonic() < deadline:
                    rounds += 1
                    acked = await _round(started, topic, rounds * 1000)
                    await _one_more(started[0], topic)
                    want = set(acked.values())
                    try:
                        # A runner only slow (a loaded machine) catches up in this time.
                        await eventually(lambda: _value(handled), want.issubset, timeout_s=10.0)
                        continue
                    except AssertionError:
                        pass
                    missing = sorted(o for o, n in acked.items() if n not in handled)
                    fresh.seek(tp, missing[0])
                    try:
                        again = await eventually(
                            lambda: fresh.getmany(tp, timeout_ms=100),
                            lambda got: bool(got.get(tp)),
                            timeout_s=10.0,
                            interval_s=0.0,
                        )
                    except AssertionError:
                        # Not readable afresh either: the broker has not stored it yet, which
                        # is not the runner skipping it. Search on.
                        continue
                    assert again[tp][0].offset == missing[0]
                    print(f"round {rounds}: offsets {missing} on the broker, never handled")
                    return
        finally:
            await fresh.stop()
    pytest.skip(
        f"no event went unhandled in {rounds} rounds of {PRODUCERS} racing producers within "
        f"{SEARCH_S:.0f} s: the defect did not show"
    )


async def test_the_runner_reads_again_from_a_gap_and_handles_every_event(
    engine: AsyncEngine, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    """Racing producers, the project's consumer runner with the gap guard: rounds until the
    runner met a gap (without the guard its record would never be handled), every event of
    every round handled, no gap taken as real."""
    handled: set[int] = set()

    async def handle(event: Envelope, uow: UnitOfWork) -> None:
        handled.add(event.payload(Ping).n)

    topic = topic_prefix + PING.topic
    async with wired(engine, broker.bootstrap_servers, topic_prefix) as w:
        runner = _runner(w, handle, gap_wait_s=5.0)
        name = runner.name
        async with producers(broker.bootstrap_servers) as started, consuming(runner):
            await eventually(lambda: _partitions(runner), bool)
            rounds = 0
            deadline = time.monotonic() + SEARCH_S
            while time.monotonic() < deadline:
                rounds += 1
                acked = await _round(started, topic, rounds * 1000)
                await _one_more(started[0], topic)
                want = set(acked.values())
                await eventually(lambda: _value(handled), want.issubset, timeout_s=15.0)
                if metric("lvyue_consumer_offset_gaps_total", consumer=name, outcome="reread"):
                    break
    gaps = metric("lvyue_consumer_offset_gaps_total", consumer=name, outcome="reread")
    assert metric("lvyue_consumer_offset_gaps_total", consumer=name, outcome="accepted") == 0
    if not gaps:
        pytest.skip(f"the runner met no offset gap in {rounds} racing rounds within {SEARCH_S} s")
    print(f"{gaps:.0f} gap(s) read again in {rounds} rounds; all {len(handled)} events handled")


def _runner(w: Wiring, handle: Handler, *, gap_wait_s: float) -> ConsumerRunner:
    return ConsumerRunner(
        name=f"gaps-{uuid.uuid4().hex[:6]}",
        subscriptions=[Subscription(PING, handle)],
        uow_factory=w.uow,
        producer=w.producer,
        bootstrap_servers=w.bootstrap,
        fetch_max_wait_ms=BROKER_FETCH_MAX_WAIT_MS,
        topic_prefix=w.prefix,
        session_timeout_ms=2000,
        offset_gap_wait_s=gap_wait_s,
    )


async def _one_more(producer: AIOKafkaProducer, topic: str) -> None:
    """A nudge after the round: defect (1) cannot be what keeps an event from the runner."""
    await producer.send_and_wait(topic, value=b"", partition=0, headers=[(NUDGE_HEADER, b"1")])


async def _partitions(runner: ConsumerRunner) -> int:
    return runner.assignment.partitions if runner.assignment else 0


async def _value(value: set[int]) -> set[int]:
    return set(value)


def _now() -> datetime:
    return datetime.now(UTC)
