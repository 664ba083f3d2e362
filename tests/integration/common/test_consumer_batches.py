"""The consumer runner's batches against the real broker and PostgreSQL: one transaction and
one offset commit per poll, offset order per partition, a poison isolated, a crash between the
database commit and the offset commit, a rebalance in the middle of a batch."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable

from aiokafka import TopicPartition
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.cli.embedded import BROKER_FETCH_MAX_WAIT_MS, EmbeddedBroker
from lvyue.common.consumer import ConsumerRunner, RetryPolicy, Subscription
from lvyue.common.deadlines.store import open_deadline
from lvyue.common.events import Envelope
from lvyue.common.tables import dead_letters, deadlines
from lvyue.common.uow import UnitOfWork
from tests.support.events import PING, Ping
from tests.support.kernel import Wiring, consuming, wired
from tests.support.polling import eventually

Handle = Callable[[Envelope, UnitOfWork], Awaitable[None]]
GROUP = "test-batches"


async def _count(engine: AsyncEngine, table) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def _effects(engine: AsyncEngine) -> Counter[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(deadlines.c.subject))
        return Counter(rows.scalars())


async def _publish(w: Wiring, pings: list[Ping], *, key: Callable[[Ping], str]) -> None:
    async with w.uow() as uow:
        for ping in pings:
            await uow.emit(PING, ping, subject=key(ping))
        await uow.commit()
    assert await w.relay.drain() == len(pings)


def _runner(w: Wiring, handle: Handle, *, name: str = GROUP) -> ConsumerRunner:
    return ConsumerRunner(
        name=name,
        subscriptions=[Subscription(PING, handle)],
        uow_factory=w.uow,
        producer=w.producer,
        bootstrap_servers=w.bootstrap,
        fetch_max_wait_ms=BROKER_FETCH_MAX_WAIT_MS,
        topic_prefix=w.prefix,
        retry=RetryPolicy(max_attempts=2, initial_s=0.01, max_s=0.05),
        session_timeout_ms=2000,
    )


async def _effect(event: Envelope, uow: UnitOfWork) -> Ping:
    """A real row per ping, so a second application would show."""
    ping = event.payload(Ping)
    now = uow.clock.now()
    await open_deadline(uow, sla="test", subject=f"ping-{ping.n}", opened_at=now, due_at=now)
    return ping


async def _committed(w: Wiring, runner: ConsumerRunner) -> int:
    """Offsets the group has committed, summed over the topic's partitions."""
    return await runner.committed(w.prefix + PING.topic)


async def test_a_poll_is_one_transaction_in_offset_order_with_one_offset_commit(
    engine: AsyncEngine, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    order: list[int] = []
    transactions: set[int] = set()

    async def handle(event: Envelope, uow: UnitOfWork) -> None:
        ping = await _effect(event, uow)
        order.append(ping.n)
        transactions.add(
            int((await uow.session.execute(text("SELECT txid_current()"))).scalar_one())
        )

    async with wired(engine, broker.bootstrap_servers, topic_prefix) as w:
        await _publish(w, [Ping(n=n) for n in range(60)], key=lambda p: "one-order")
        runner = _runner(w, handle)
        async with consuming(runner):
            await eventually(lambda: _has(engine, 60), bool, timeout_s=30)
            await eventually(lambda: _offsets_at(w, runner, 60), bool, timeout_s=30)

    assert order == list(range(60))  # one key, one partition: offset order
    assert len(transactions) < 60  # several messages per transaction
    assert set((await _effects(engine)).values()) == {1}


async def test_a_poison_in_the_middle_of_a_batch_fails_only_itself(
    engine: AsyncEngine, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    async def handle(event: Envelope, uow: UnitOfWork) -> None:
        ping = await _effect(event, uow)
        if ping.poison:
            raise RuntimeError(f"cannot handle ping {ping.n}")

    pings = [Ping(n=n, poison=n == 10) for n in range(20)]
    async with wired(engine, broker.bootstrap_servers, topic_prefix) as w:
        await _publish(w, pings, key=lambda p: f"order-{p.n % 3}")
        runner = _runner(w, handle)
        async with consuming(runner):
            await eventually(lambda: _has(engine, 19), bool, timeout_s=30)
            await eventually(lambda: _count_at_least(engine, dead_letters, 1), bool, timeout_s=30)
            await eventually(lambda: _offsets_at(w, runner, 20), bool, timeout_s=30)

    effects = await _effects(engine)
    assert effects == Counter({f"ping-{n}": 1 for n in range(20) if n != 10})
    async with engine.connect() as conn:
        letter = (await conn.execute(select(dead_letters))).one()
    assert "cannot handle ping 10" in letter.error


async def test_a_crash_between_the_database_commit_and_the_offset_commit_redelivers_as_no_op(
    engine: AsyncEngine, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    calls: Counter[int] = Counter()

    async def handle(event: Envelope, uow: UnitOfWork) -> None:
        calls[(await _effect(event, uow)).n] += 1

    class CrashesBeforeOffsets(ConsumerRunner):
        async def _commit_offsets(self, offsets: dict[TopicPartition, int]) -> bool:
            return False  # the process died here: the database committed, Kafka never heard

    async with wired(engine, broker.bootstrap_servers, topic_prefix) as w:
        await _publish(w, [Ping(n=n) for n in range(30)], key=lambda p: f"order-{p.n}")
        first = CrashesBeforeOffsets(
            name=GROUP,
            subscriptions=[Subscription(PING, handle)],
            uow_factory=w.uow,
            producer=w.producer,
            bootstrap_servers=w.bootstrap,
            topic_prefix=w.prefix,
            session_timeout_ms=2000,
        )
        async with consuming(first):
            await eventually(lambda: _has(engine, 30), bool, timeout_s=30)
            assert await _committed(w, first) == 0
        handled_once = calls.copy()

        redelivered: list[int] = []

        async def record(event: Envelope, uow: UnitOfWork) -> None:
            redelivered.append(event.payload(Ping).n)

        second = _runner(w, record)
        async with consuming(second):
            # everything comes again from offset 0 and is committed, with no handler call
            await eventually(lambda: _offsets_at(w, second, 30), bool, timeout_s=30)

    assert handled_once == Counter(dict.fromkeys(range(30), 1))
    assert redelivered == []
    assert set((await _effects(engine)).values()) == {1}


async def test_a_rebalance_in_the_middle_of_a_batch_applies_every_event_once(
    engine: AsyncEngine, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    gate = asyncio.Event()
    first_batch_started = asyncio.Event()

    async def slow_first(event: Envelope, uow: UnitOfWork) -> None:
        first_batch_started.set()
        await gate.wait()  # held inside its batch while a second member joins
        await _effect(event, uow)

    async def handle(event: Envelope, uow: UnitOfWork) -> None:
        await _effect(event, uow)

    async with wired(engine, broker.bootstrap_servers, topic_prefix) as w:
        await _publish(w, [Ping(n=n) for n in range(40)], key=lambda p: f"order-{p.n}")
        first, second = _runner(w, slow_first), _runner(w, handle)
        await first.start()
        stop = asyncio.Event()
        tasks = [asyncio.create_task(first.run(stop))]
        try:
            await asyncio.wait_for(first_batch_started.wait(), timeout=30)
            await second.start()
            tasks.append(asyncio.create_task(second.run(stop)))
            await eventually(lambda: _assigned(second), bool, timeout_s=30)
            gate.set()
            await eventually(lambda: _has(engine, 40), bool, timeout_s=30)
            await asyncio.sleep(2)  # time for a late double application to show
        finally:
            gate.set()
            stop.set()
            await asyncio.gather(*tasks)
            await first.stop()
            await second.stop()

    assert await _effects(engine) == Counter({f"ping-{n}": 1 for n in range(40)})


async def _assigned(runner: ConsumerRunner) -> bool:
    return runner.assignment is not None and runner.assignment.partitions > 0


async def _has(engine: AsyncEngine, n: int) -> bool:
    return await _count(engine, deadlines) >= n


async def _count_at_least(engine: AsyncEngine, table, n: int) -> bool:
    return await _count(engine, table) >= n


async def _offsets_at(w: Wiring, runner: ConsumerRunner, n: int) -> bool:
    return await _committed(w, runner) >= n
