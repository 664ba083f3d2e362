"""Outbox replay into a broker that lost its log (the embedded one keeps nothing across restarts).

"May not have been consumed" is decided by the consumers themselves: an event the lost broker
received is published again only if a consumer that reads its topic has neither an inbox row
nor a dead letter for it. What every consumer already processed stays sent, so a restart
re-publishes what was in flight, never the history (a replayed event is stamped sent again,
but once consumed it is not replayed by the next restart). A topic no lvyue consumer reads
(the warehouse's, for example) has no inbox to ask: its events are replayed once, to the broker
after the one that first received them.

This reads every service's database, so only the process that runs them all (`lvyue run`) calls
it; the services only record which topics they consume.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, union, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.common.db import SessionFactory, make_engine
from lvyue.common.sql import any_of
from lvyue.common.tables import consumer_subscriptions, dead_letters, inbox, outbox


async def record_subscriptions(
    sessions: SessionFactory, consumer: str, topics: Iterable[str]
) -> None:
    """The topics `consumer` reads (unprefixed), replacing what an older release recorded: a
    topic it stopped reading must not hold its events for replay forever."""
    wanted = sorted(set(topics))
    async with sessions() as session, session.begin():
        await session.execute(
            delete(consumer_subscriptions).where(
                consumer_subscriptions.c.consumer == consumer,
                consumer_subscriptions.c.topic.not_in(wanted),
            )
        )
        if wanted:
            await session.execute(
                insert(consumer_subscriptions)
                .values([{"consumer": consumer, "topic": t} for t in wanted])
                .on_conflict_do_nothing()
            )


@dataclass(frozen=True)
class Replayed:
    """One service's outbox: events the lost broker received, and those queued again."""

    sent_to_lost_broker: int
    requeued: int


@dataclass(frozen=True)
class _Subscriber:
    database: str  # key of the service's database in the mapping given to replay
    consumer: str


async def replay_unconsumed(
    database_urls: Mapping[str, str], *, lost_broker_started_at: datetime
) -> dict[str, Replayed]:
    """Marks unsent again, in every service's outbox, the events published since the lost
    broker started that some consumer of their topic has not processed. Per database name."""
    engines = {
        name: make_engine(url, pool_size=1, max_overflow=0) for name, url in database_urls.items()
    }
    try:
        subscribers = await _subscribers(engines)
        replayed: dict[str, Replayed] = {}
        for name, engine in engines.items():
            sent = await _sent_since(engine, lost_broker_started_at)
            pending = await _unconsumed(engines, subscribers, sent)
            pending |= {
                row.seq
                for row in sent
                if row.topic not in subscribers
                # no first_sent_at: sent before it was recorded, maybe only to the lost broker
                and (row.first_sent_at is None or row.first_sent_at >= lost_broker_started_at)
            }
            replayed[name] = Replayed(len(sent), await _requeue(engine, sorted(pending)))
        return replayed
    finally:
        for engine in engines.values():
            await engine.dispose()


async def _subscribers(engines: Mapping[str, AsyncEngine]) -> dict[str, list[_Subscriber]]:
    found: dict[str, list[_Subscriber]] = defaultdict(list)
    for name, engine in engines.items():
        async with engine.connect() as conn:
            rows = await conn.execute(select(consumer_subscriptions))
            for row in rows:
                found[row.topic].append(_Subscriber(name, row.consumer))
    return dict(found)


async def _sent_since(engine: AsyncEngine, since: datetime) -> Sequence[Any]:
    async with engine.connect() as conn:
        return (
            await conn.execute(
                select(
                    outbox.c.seq, outbox.c.event_id, outbox.c.topic, outbox.c.first_sent_at
                ).where(outbox.c.sent_at >= since)
            )
        ).all()


async def _unconsumed(
    engines: Mapping[str, AsyncEngine],
    subscribers: Mapping[str, list[_Subscriber]],
    sent: Sequence[Any],
) -> set[int]:
    """Seqs of rows that at least one consumer of their topic has not processed."""
    by_subscriber: dict[_Subscriber, dict[str, int]] = defaultdict(dict)
    for row in sent:
        for subscriber in subscribers.get(row.topic, ()):
            by_subscriber[subscriber][str(row.event_id)] = row.seq
    pending: set[int] = set()
    for subscriber, seq_by_id in by_subscriber.items():
        done = await _processed(engines[subscriber.database], subscriber.consumer, list(seq_by_id))
        pending.update(seq for event_id, seq in seq_by_id.items() if event_id not in done)
    return pending


async def _processed(engine: AsyncEngine, consumer: str, event_ids: list[str]) -> set[str]:
    """The ids among `event_ids` this consumer handled or parked as a dead letter. Not one it
    parked and an operator republished since: that copy went to the lost broker too, so until
    the inbox has it, it is in flight."""
    # Array parameters, not one parameter per id: asyncpg takes at most 32767.
    query = union(
        select(inbox.c.event_id).where(
            inbox.c.consumer == consumer, any_of(inbox.c.event_id, event_ids)
        ),
        select(dead_letters.c.event_id).where(
            dead_letters.c.consumer == consumer,
            any_of(dead_letters.c.event_id, event_ids),
            dead_letters.c.redriven_at.is_(None),
        ),
    )
    async with engine.connect() as conn:
        return set((await conn.execute(query)).scalars())


async def _requeue(engine: AsyncEngine, seqs: list[int]) -> int:
    if not seqs:
        return 0
    async with engine.begin() as conn:
        result = await conn.execute(
            update(outbox).where(any_of(outbox.c.seq, seqs)).values(sent_at=None)
        )
    return int(result.rowcount)
