"""Nudges: a workaround for the embedded broker's stale end of partition.

The embedded Tansu broker (0.6.0, memory storage) keeps each partition's high watermark in a
cache that two racing produce requests can leave one write behind: the partition's last
record(s), acked, stay invisible to every fetch until the next record is written to that
partition, which brings the cache up to date. An order could then sit unprocessed until another
order happened to land on its partition.

A producer that writes to a partition therefore writes one more, tiny record there once the
partition has been quiet for a short while (`LVYUE_KAFKA_NUDGE_QUIET_MS`, set by `lvyue run` for
the embedded broker only): a nudge, started after the producer's own records were acked, makes
them visible. Under load a partition is never quiet, each write covers the ones before it and
no nudge is sent; at a low rate a record is visible within the quiet interval. The nudge itself
may be the record left invisible, which hides nothing.

A nudge carries the header `lvyue_nudge`, no key and no value. Every reader skips it: the
consumer runner (it commits past it without touching the inbox or a handler) and the topic
readers of the CLI and the tests (`is_nudge`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine, Iterable, Sequence
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata
from prometheus_client import Counter

log = structlog.get_logger(__name__)

NUDGE_HEADER = "lvyue_nudge"
_NUDGE_HEADERS = [(NUDGE_HEADER, b"1")]
_RETRY_AFTER_S = 1.0

NUDGES = Counter(
    "lvyue_kafka_nudges_total",
    "Nudge records written to a quiet partition so that the embedded broker shows its last "
    "record (0 with Apache Kafka: off)",
    ["topic"],
)


def is_nudge(value: bytes | None, headers: Sequence[tuple[str, bytes | None]] | None) -> bool:
    """True for a nudge record; cheap for an event (its value is never empty)."""
    return not value and any(name == NUDGE_HEADER for name, _ in headers or ())


class PartitionNudger:
    """Remembers the partitions a producer wrote to and nudges each once it has been quiet for
    `quiet_s` since its last acked write."""

    def __init__(self, producer: AIOKafkaProducer, *, quiet_s: float = 0.15) -> None:
        self._producer = producer
        self._quiet_s = quiet_s
        self._written: dict[tuple[str, int], float] = {}  # (topic, partition) -> last ack
        self._wakeup = asyncio.Event()

    @property
    def pending(self) -> int:
        """Partitions written to and not nudged since."""
        return len(self._written)

    def written(self, acked: Iterable[RecordMetadata]) -> None:
        """Records the partitions of acked writes: one dict store per record, nothing sent."""
        now = asyncio.get_running_loop().time()
        was_idle = not self._written
        for meta in acked:
            self._written[(meta.topic, meta.partition)] = now
        if was_idle and self._written:
            self._wakeup.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Nudges quiet partitions until `stop` is set (then `flush` nudges what is left)."""
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            if not self._written:
                self._wakeup.clear()
                await _first(stop.wait(), self._wakeup.wait())
                continue
            due_at = min(self._written.values()) + self._quiet_s
            if (wait_s := due_at - loop.time()) > 0:
                await _first(stop.wait(), asyncio.sleep(wait_s))
                continue
            cutoff = loop.time() - self._quiet_s
            await self._nudge([tp for tp, at in self._written.items() if at <= cutoff])

    async def flush(self) -> int:
        """Nudges every partition written to and not nudged yet, quiet or not: at shutdown."""
        return await self._nudge(list(self._written))

    async def _nudge(self, partitions: list[tuple[str, int]]) -> int:
        # Forgotten before sending: a write acked meanwhile is remembered again, nudged later.
        for tp in partitions:
            del self._written[tp]
        try:
            sent = [
                await self._producer.send(
                    topic, value=b"", key=None, partition=partition, headers=_NUDGE_HEADERS
                )
                for topic, partition in partitions
            ]
            await asyncio.gather(*sent)
        except Exception as exc:
            retry_at = asyncio.get_running_loop().time() + _RETRY_AFTER_S
            for tp in partitions:  # tried again a second later: a broker that is down fails fast
                self._written.setdefault(tp, retry_at)
            log.warning("kafka_nudge_failed", partitions=len(partitions), error=repr(exc))
            return 0
        for topic, _ in partitions:
            NUDGES.labels(topic).inc()
        return len(partitions)


async def _first(*waits: Coroutine[Any, Any, Any]) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
