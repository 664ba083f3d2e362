"""Reading what really reached the broker, for assertions; dropping a test's topics after it."""

from __future__ import annotations

import asyncio
import time
from typing import Any, TypeAlias

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from lvyue.common.kafka import first_holes
from lvyue.common.nudge import is_nudge

Record: TypeAlias = "ConsumerRecord[Any, Any]"


async def read_topic(
    bootstrap: str, topic: str, *, expect: int, timeout_s: float = 15.0, settle_s: float = 1.0
) -> list[Record]:
    """Everything on `topic` from the start, in offset order per partition: waits for `expect`
    messages, then `settle_s` more so that an unexpected extra message (a double publish) is
    seen too. A hole below what was read (the embedded broker's defect, see first_holes) is
    read again."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,  # no group to join: reads every partition at once
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen: dict[TopicPartition, dict[int, Record]] = {}
    try:
        deadline = time.monotonic() + timeout_s
        settle_until: float | None = None
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for tp, messages in batch.items():
                seen.setdefault(tp, {}).update((m.offset, m) for m in messages)
            if not batch:
                for tp, offset in first_holes({tp: r.keys() for tp, r in seen.items()}).items():
                    consumer.seek(tp, offset)
            if len(_events(seen)) >= expect and settle_until is None:
                settle_until = time.monotonic() + settle_s
            if settle_until is not None and time.monotonic() >= settle_until:
                break
            await asyncio.sleep(0)
    finally:
        await consumer.stop()
    return _events(seen)


def _events(seen: dict[TopicPartition, dict[int, Record]]) -> list[Record]:
    """Not the nudges the embedded broker's workaround writes: they are no event."""
    return [
        record
        for tp in sorted(seen)
        for _, record in sorted(seen[tp].items())
        if not is_nudge(record.value, record.headers)
    ]


async def drop_topics(bootstrap: str, prefix: str, timeout_s: float = 15.0) -> int:
    """Deletes a test's topics (those named with its prefix) from the shared broker; how many.

    Every Kafka client's start reads the metadata of every topic on the broker, so a session
    broker that kept each test's ~50 topics made each later test start slower (12,000 topics:
    about a second per client start). Best effort and bounded: a broker a test stopped or
    broke leaves its topics, and aiokafka's metadata fetch may outlive its cancellation, so it
    is not waited for past the timeout."""

    async def drop() -> int:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            mine = [t for t in await admin.list_topics() if t.startswith(prefix)]
            if mine:
                await admin.delete_topics(mine)
            return len(mine)
        finally:
            await admin.close()

    task = asyncio.ensure_future(drop())
    done, _ = await asyncio.wait({task}, timeout=timeout_s)
    if not done:
        task.cancel()
        return 0
    return task.result() if not task.cancelled() and task.exception() is None else 0
