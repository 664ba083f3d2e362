"""Reading what really reached the broker, for assertions."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from lvyue.common.nudge import is_nudge


async def read_topic(
    bootstrap: str, topic: str, *, expect: int, timeout_s: float = 15.0, settle_s: float = 1.0
) -> list[ConsumerRecord[Any, Any]]:
    """Everything on `topic` from the start, in offset order per partition: waits for `expect`
    messages, then `settle_s` more so that an unexpected extra message (a double publish) is
    seen too.

    The embedded broker can answer a read from before an offset with the records after it
    when produce requests raced there (see test_broker_offset_gaps): a reader moving on would
    never see that record, though a read from its own offset returns it. Offsets are dense
    here (no compaction, no transactions), so a hole below what was read is read again."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,  # no group to join: reads every partition at once
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen: dict[TopicPartition, dict[int, ConsumerRecord[Any, Any]]] = {}
    try:
        deadline = time.monotonic() + timeout_s
        settle_until: float | None = None
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for tp, messages in batch.items():
                seen.setdefault(tp, {}).update((m.offset, m) for m in messages)
            if not batch:
                _read_holes_again(consumer, seen)
            count = sum(1 for r in _records(seen) if not is_nudge(r.value, r.headers))
            if count >= expect and settle_until is None:
                settle_until = time.monotonic() + settle_s
            if settle_until is not None and time.monotonic() >= settle_until:
                break
            await asyncio.sleep(0)
    finally:
        await consumer.stop()
    # Not the nudges the embedded broker's workaround writes: they are no event.
    return [r for r in _records(seen) if not is_nudge(r.value, r.headers)]


def _read_holes_again(
    consumer: AIOKafkaConsumer, seen: dict[TopicPartition, dict[int, ConsumerRecord[Any, Any]]]
) -> None:
    """Moves each partition with a hole below what was read back to its first hole."""
    for tp, by_offset in seen.items():
        holes = set(range(max(by_offset) + 1)) - by_offset.keys()
        if holes:
            consumer.seek(tp, min(holes))


def _records(
    seen: dict[TopicPartition, dict[int, ConsumerRecord[Any, Any]]],
) -> list[ConsumerRecord[Any, Any]]:
    return [seen[tp][o] for tp in sorted(seen) for o in sorted(seen[tp])]
