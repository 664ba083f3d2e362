"""Transactional outbox: events are written with the state change; a relay publishes them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any, Protocol

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from prometheus_client import Counter, Gauge
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from lvyue.common.db import STATEMENTS, SessionFactory, driver_connection
from lvyue.common.events import Envelope
from lvyue.common.events.codec import Headers, binary_message, json_object
from lvyue.common.nudge import PartitionNudger
from lvyue.common.tables import outbox

log = structlog.get_logger(__name__)

PUBLISHED = Counter("lvyue_outbox_published_total", "Events published from the outbox", ["topic"])
PUBLISH_FAILURES = Counter(
    "lvyue_outbox_publish_failures_total", "Outbox batches that failed to publish"
)
BACKLOG = Gauge("lvyue_outbox_backlog", "Outbox rows not yet published")
OLDEST_AGE = Gauge(
    "lvyue_outbox_oldest_unsent_age_seconds", "Age of the oldest outbox row not yet published"
)


_STAGE = outbox.insert()  # built once: values come with each execution, compiled once
# Delivered when the transaction commits (never on a rollback), to every LISTENing relay of
# this database; several in one transaction are delivered once.
CHANNEL = "lvyue_outbox"
_NOTIFY = text(f"NOTIFY {CHANNEL}")


async def stage_all(
    session: AsyncSession, events: Sequence[tuple[Envelope, str]], *, notify: bool = False
) -> None:
    """Adds events (envelope, topic) to the outbox in one round trip, in this order; with
    `notify`, a relay in another process hears of them at the commit."""
    if not events:
        return
    if notify:
        await session.execute(_NOTIFY)
    await session.execute(
        _STAGE,
        [
            {
                "event_id": envelope.id,
                "topic": topic,
                "key": envelope.subject,
                "event_type": envelope.type,
                "source": envelope.source,
                "dataschema": envelope.dataschema,
                "occurred_at": envelope.time,
                "payload": envelope.data,
            }
            for envelope, topic in events
        ],
    )


class _Row(Protocol):
    """An outbox row as a mapping: asyncpg's Record, SQLAlchemy's RowMapping."""

    def __getitem__(self, key: str) -> Any: ...


def message_of(row: _Row) -> tuple[bytes, bytes, Headers]:
    """(key, value, headers) of the event an outbox row holds, as it was emitted (same id: a
    consumer's inbox knows it). No envelope is built: the row was one, validated then. The
    payload as stored JSON text (the relay's read) is written again compact with orjson, as a
    decoded one is: PostgreSQL's jsonb text puts a space after every colon and comma."""
    payload = row["payload"]
    return binary_message(
        event_id=row["event_id"], type=row["event_type"], source=row["source"],
        subject=row["key"], time=row["occurred_at"], dataschema=row["dataschema"],
        data=json_object(payload) if isinstance(payload, str) else payload,
    )  # fmt: skip


# The relay's two statements, through asyncpg itself (lvyue.common.db.driver_connection): it
# runs a transaction per batch in every service that stages events. The payload comes as the
# stored JSON's text. FOR UPDATE: a second relay waits, then skips what this one marked sent.
_UNSENT = (
    "SELECT seq, event_id, topic, key, event_type, source, dataschema, occurred_at, "
    "payload::text AS payload FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT $1 "
    "FOR UPDATE"
)
_MARK_SENT = (
    "UPDATE outbox SET sent_at = now(), first_sent_at = coalesce(first_sent_at, now()) "
    "WHERE seq = ANY($1::bigint[])"
)


class OutboxRelay:
    """Publishes unsent rows in order, then marks them sent, all under row locks.

    A crash after the publish and before the commit publishes those rows again: consumers
    dedupe by event id, so the effect is still once. Two relays never hold the same rows:
    the second waits on the first one's row locks and then skips what it marked sent.
    """

    def __init__(
        self,
        session_factory: SessionFactory,
        producer: AIOKafkaProducer,
        *,
        topic_prefix: str = "",
        batch_size: int = 200,
        poll_interval_s: float = 0.05,
        nudger: PartitionNudger | None = None,
    ) -> None:
        """`nudger` (embedded broker only) is told the partitions of every acked batch."""
        self._sessions = session_factory
        self._producer = producer
        self._prefix = topic_prefix
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._wakeup = asyncio.Event()
        self._nudger = nudger

    def notify(self) -> None:
        """Hint that new rows were committed: skip the rest of the poll wait."""
        self._wakeup.set()

    async def listen(self, dsn: str, stop: asyncio.Event) -> None:
        """Wakes the relay on every NOTIFY lvyue_outbox (commits of other processes: a service
        whose API process stages events that its consumers' process relays), on a connection
        of its own, connected again whenever it is lost (the poll covers the gap)."""
        backoff = 0.5
        while not stop.is_set():
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(dsn, timeout=5)
                await conn.add_listener(CHANNEL, lambda *_: self.notify())
                self.notify()  # what was committed while nobody listened
                backoff = 0.5
                while not stop.is_set() and not conn.is_closed():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), 1.0)
            except Exception as exc:  # the database is down: poll until it is back
                log.warning("outbox_listen_failed", error=repr(exc), retry_in_s=backoff)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), 2.0)

    async def publish_batch(self) -> int:
        async with driver_connection(self._sessions) as conn, conn.transaction():
            rows = await conn.fetch(_UNSENT, self._batch_size)
            STATEMENTS.labels("execute").inc()
            if not rows:
                return 0
            deliveries = []
            for row in rows:
                key, value, headers = message_of(row)
                deliveries.append(
                    await self._producer.send(
                        self._prefix + row["topic"], value=value, key=key, headers=headers
                    )
                )
            acked = await asyncio.gather(*deliveries)
            if self._nudger is not None:
                self._nudger.written(acked)
            await conn.execute(_MARK_SENT, [row["seq"] for row in rows])
            STATEMENTS.labels("execute").inc()
        for row in rows:
            PUBLISHED.labels(row["topic"]).inc()
        return len(rows)

    async def drain(self) -> int:
        """Publishes until nothing is left: used at shutdown."""
        total = 0
        while (n := await self.publish_batch()) > 0:
            total += n
        return total

    async def refresh_backlog_metrics(self) -> None:
        async with self._sessions() as session:
            count, oldest = (
                await session.execute(
                    select(
                        func.count(),
                        func.extract("epoch", func.now() - func.min(outbox.c.created_at)),
                    ).where(outbox.c.sent_at.is_(None))
                )
            ).one()
        BACKLOG.set(count)
        OLDEST_AGE.set(float(oldest or 0))

    async def run(self, stop: asyncio.Event, *, metrics_every_s: float = 5.0) -> None:
        """Publishes when woken by a commit that staged events, else every poll interval.

        The poll only catches rows committed by another process (a replica without a relay,
        a script): this process's own commits wake the relay at once.
        """
        backoff = self._poll_interval_s
        loop = asyncio.get_running_loop()
        next_metrics = loop.time()
        while not stop.is_set():
            if loop.time() >= next_metrics:
                next_metrics = loop.time() + metrics_every_s
                with contextlib.suppress(Exception):  # metrics never stop publishing
                    await self.refresh_backlog_metrics()
            # Cleared before the read, not after: a commit during the publish wakes us again.
            self._wakeup.clear()
            try:
                published = await self.publish_batch()
                backoff = self._poll_interval_s
            except Exception as exc:
                PUBLISH_FAILURES.inc()
                log.warning("outbox_publish_failed", error=str(exc), retry_in_s=backoff)
                published = 0
                backoff = min(max(backoff * 2, 0.1), 5.0)
            if published >= self._batch_size:
                continue  # more waiting: go again at once
            waiters = {
                asyncio.ensure_future(stop.wait()),
                asyncio.ensure_future(self._wakeup.wait()),
            }
            timeout = min(backoff, max(0.0, next_metrics - loop.time()))
            _, pending = await asyncio.wait(
                waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()
