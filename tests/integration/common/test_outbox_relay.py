"""The outbox relay against the real PostgreSQL and broker."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.cli.embedded import EmbeddedBroker
from lvyue.common.db import STATEMENTS, libpq_url
from lvyue.common.events.codec import from_kafka
from lvyue.common.outbox import OutboxRelay
from lvyue.common.tables import outbox
from tests.support.events import PING, Ping
from tests.support.kafka import read_topic
from tests.support.kernel import wired
from tests.support.polling import eventually


async def _emit(wiring, n: int, key: str = "order-1") -> None:
    async with wiring.uow() as uow:
        await uow.emit(PING, Ping(n=n), subject=key)
        await uow.commit()


async def test_event_is_not_published_when_its_transaction_rolls_back(
    engine: AsyncEngine, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    async with wired(engine, broker.bootstrap_servers, topic_prefix) as w:
        async with w.uow() as uow:
            await uow.emit(PING, Ping(n=1), subject="k")
            # leaving without commit rolls back
        assert await w.relay.drain() == 0
        async with engine.connect() as conn:
            assert (await conn.execute(select(func.count()).select_from(outbox))).scalar() == 0


async def test_committed_event_survives_a_dead_relay_and_is_published_once_after_restart(
    engine: AsyncEngine, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    async with wired(engine, broker.bootstrap_servers, topic_prefix) as w:
        await _emit(w, 1)
        # no relay was running: the event waits in the outbox, committed with the state change
        async with engine.connect() as conn:
            unsent = select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
            assert (await conn.execute(unsent)).scalar() == 1
        restarted = OutboxRelay(w.sessions, w.producer, topic_prefix=topic_prefix)
        assert await restarted.drain() == 1
        assert await restarted.drain() == 0
        records = await read_topic(broker.bootstrap_servers, topic_prefix + "test.ping", expect=1)
        assert len(records) == 1
        envelope = from_kafka(records[0].key, records[0].value, records[0].headers)
        assert envelope.payload(Ping) == Ping(n=1)


async def test_two_relays_publish_each_event_once_and_in_order(
    engine: AsyncEngine, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    async with wired(engine, broker.bootstrap_servers, topic_prefix) as w:
        for n in range(60):
            await _emit(w, n)
        second = OutboxRelay(w.sessions, w.producer, topic_prefix=topic_prefix, batch_size=7)
        first = OutboxRelay(w.sessions, w.producer, topic_prefix=topic_prefix, batch_size=5)
        counts = await asyncio.gather(first.drain(), second.drain())
        assert sum(counts) == 60
        records = await read_topic(broker.bootstrap_servers, topic_prefix + "test.ping", expect=60)
        numbers = [from_kafka(r.key, r.value, r.headers).payload(Ping).n for r in records]
        assert numbers == list(range(60))  # one key, one partition: order kept, nothing twice


async def test_a_listening_relay_is_woken_by_another_process_commit_not_by_its_poll(
    engine: AsyncEngine, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    """As `lvyue run` splits a service: the API process commits with NOTIFY and relays
    nothing; the consumers' process relays, LISTENing. Its poll here is 30 s, so an event out
    within a few seconds was published because of the NOTIFY."""
    unsent = select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))

    async def waiting() -> int:
        async with engine.connect() as conn:
            return int((await conn.execute(unsent)).scalar_one())

    async with wired(engine, broker.bootstrap_servers, topic_prefix) as w:
        relay = OutboxRelay(w.sessions, w.producer, topic_prefix=topic_prefix, poll_interval_s=30.0)
        stop = asyncio.Event()
        dsn = libpq_url(engine.url.render_as_string(hide_password=False))
        tasks = [
            asyncio.create_task(relay.run(stop, metrics_every_s=600.0)),
            asyncio.create_task(relay.listen(dsn, stop)),
        ]
        try:
            await asyncio.sleep(1.0)  # the first poll is done and the listener connected
            await _emit(w, 1)  # no NOTIFY: waits for the poll
            await asyncio.sleep(2.0)
            assert await waiting() == 1
            w.uow.notify = True  # the API process's setting: NOTIFY in the transaction
            await _emit(w, 2)
            assert await eventually(waiting, lambda n: n == 0, timeout_s=5) == 0
        finally:
            stop.set()
            await asyncio.gather(*tasks)
    records = await read_topic(broker.bootstrap_servers, topic_prefix + "test.ping", expect=2)
    assert sorted(from_kafka(r.key, r.value, r.headers).payload(Ping).n for r in records) == [1, 2]


def _statements() -> float:
    return sum(
        sample.value
        for metric in STATEMENTS.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    )


async def test_the_relay_sends_the_payload_as_emitted_marks_it_sent_and_counts_its_statements(
    engine: AsyncEngine, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    """The relay reads rows through asyncpg itself (the payload as jsonb text), so what it
    sends is checked to the byte: compact JSON, as orjson writes it (keys in the order jsonb
    keeps them: shorter first), text beyond ASCII and quotes included; and its two
    statements still count for the bench."""
    big = 2**62
    async with wired(engine, broker.bootstrap_servers, topic_prefix) as w:
        async with w.uow() as uow:
            await uow.emit(PING, Ping(n=big, note='明前龙井 "250g"'), subject="k")
            await uow.commit()
        before = _statements()
        assert await w.relay.drain() == 1
        assert _statements() - before == 3  # read and mark; then a read that finds nothing
        async with engine.connect() as conn:
            sent_at, first_sent_at = (
                await conn.execute(select(outbox.c.sent_at, outbox.c.first_sent_at))
            ).one()
        assert sent_at is not None
        assert first_sent_at == sent_at
    records = await read_topic(broker.bootstrap_servers, topic_prefix + "test.ping", expect=1)
    expected = '{"n":' + str(big) + ',"note":"明前龙井 \\"250g\\"","poison":false}'
    assert json.loads(records[0].value) == json.loads(expected)
    assert records[0].value == expected.encode()
