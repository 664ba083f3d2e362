"""Reading what really reached the broker, for assertions."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord

from lvyue.common.nudge import is_nudge


async def read_topic(
    bootstrap: str, topic: str, *, expect: int, timeout_s: float = 15.0, settle_s: float = 1.0
) -> list[ConsumerRecord[Any, Any]]:
    """Everything on `topic` from the start: waits for `expect` messages, then `settle_s` more
    so that an unexpected extra message (a double publish) is seen too."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,  # no group to join: reads every partition at once
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[ConsumerRecord[Any, Any]] = []
    try:
        deadline = time.monotonic() + timeout_s
        settle_until: float | None = None
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for messages in batch.values():
                # Not the nudges the embedded broker's workaround writes: they are no event.
                records.extend(m for m in messages if not is_nudge(m.value, m.headers))
            if len(records) >= expect and settle_until is None:
                settle_until = time.monotonic() + settle_s
            if settle_until is not None and time.monotonic() >= settle_until:
                break
            await asyncio.sleep(0)
    finally:
        await consumer.stop()
    return records
