"""The embedded broker's offset gaps: a fetch must not move past an acked record it has not
stored yet.

With racing writes the embedded broker (Tansu) can answer a fetch with a later record before
an earlier acked one is stored, and a consumer moving on would never read the earlier one.
Offsets are contiguous on that broker, so a missing offset is seen: the records before it are
kept, the partition is read again from it, and only after `wait_s` is the gap taken as real
(logged, counted).
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from lvyue.common.consumer.metrics import OFFSET_GAPS

log = structlog.get_logger(__name__)

Batches = dict[TopicPartition, list[ConsumerRecord[Any, Any]]]


class OffsetGaps:
    """Per partition: the offset expected next, and the gap being waited out (if any)."""

    def __init__(self, consumer: str, wait_s: float) -> None:
        self.consumer = consumer
        self.wait_s = wait_s
        self._next_offsets: dict[TopicPartition, int] = {}  # the offset expected next
        self._gaps: dict[TopicPartition, tuple[int, float]] = {}  # missing offset, since

    def forget(self) -> None:
        """After a rebalance the partitions continue from their committed offsets."""
        self._next_offsets.clear()
        self._gaps.clear()

    def hold(self, consumer: AIOKafkaConsumer, batches: Batches) -> Batches:
        """The records of the poll up to the first offset missing in their partition; that
        partition is read again from the missing offset. A lower offset than expected is a
        rewind (a seek after a failure) and taken as it comes."""
        now = time.monotonic()
        kept: Batches = {}
        for tp, messages in batches.items():
            expected = self._next_offsets.get(tp)
            cut = None
            for index, message in enumerate(messages):
                if expected is not None and message.offset > expected:
                    cut = index
                    break
                expected = message.offset + 1
            if cut is None or expected is None:
                self._gaps.pop(tp, None)
            else:
                missing, since = self._gaps.get(tp, (-1, now))
                if missing != expected:  # a new gap
                    missing, since = expected, now
                    self._gaps[tp] = (missing, since)
                    OFFSET_GAPS.labels(self.consumer, "reread").inc()
                if now - since < self.wait_s:
                    if tp in consumer.assignment():  # else: it moved to another member
                        consumer.seek(tp, missing)
                    messages = messages[:cut]
                else:
                    log.warning(
                        "offset_gap_accepted",
                        consumer=self.consumer,
                        topic=tp.topic,
                        partition=tp.partition,
                        missing_from=missing,
                        next_offset=messages[cut].offset,
                        waited_s=round(now - since, 2),
                    )
                    OFFSET_GAPS.labels(self.consumer, "accepted").inc()
                    del self._gaps[tp]
                    expected = messages[-1].offset + 1
            if expected is not None:
                self._next_offsets[tp] = expected
            if messages:
                kept[tp] = messages
        return kept
