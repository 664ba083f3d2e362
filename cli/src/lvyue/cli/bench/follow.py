"""Follows every order on Kafka: a consumer without a group reads the pipeline's topics from
their current end and keeps, per topic, the timestamp of each order's first event (key = order
id). Kafka timestamps are set by the producing relay, on this machine's clock."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition

from lvyue.cli.services import SERVICES
from lvyue.common.events.catalog import (
    INVENTORY_REJECTED,
    INVENTORY_RESERVED,
    ORDER_ABNORMAL,
    ORDER_CREATED,
    ORDER_REVIEWED,
    SHIPMENT_REQUESTED,
)

FAILED = {INVENTORY_REJECTED.topic: "inventory_rejected", ORDER_ABNORMAL.topic: "review_abnormal"}


def fulfilment_running() -> bool:
    return any(spec.name == "fulfilment" for spec in SERVICES)


def pipeline() -> list[str]:
    """The topics an order passes, in order; shipment.requested once fulfilment runs."""
    chain = [ORDER_CREATED.topic, INVENTORY_RESERVED.topic, ORDER_REVIEWED.topic]
    if fulfilment_running():
        chain.append(SHIPMENT_REQUESTED.topic)
    return chain


@dataclass
class Follower:
    bootstrap_servers: str
    topics: Sequence[str]
    prefix: str = ""
    seen: dict[str, dict[str, float]] = field(default_factory=dict)  # topic -> order -> ts
    redelivered: int = 0  # events seen again for the same order (at-least-once at work)
    _consumer: AIOKafkaConsumer | None = None
    _task: asyncio.Task[None] | None = None

    @property
    def watched(self) -> list[str]:
        return [*self.topics, *(t for t in FAILED if t not in self.topics)]

    async def start(self, timeout_s: float = 30.0) -> None:
        """Assigns every partition at its end; returns once positions are fixed."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="latest",
            fetch_max_wait_ms=100,
        )
        await consumer.start()
        self._consumer = consumer
        names = {self.prefix + t: t for t in self.watched}
        deadline = time.monotonic() + timeout_s
        partitions: list[TopicPartition] = []
        for name in names:
            while not (parts := consumer.partitions_for_topic(name)):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"topic {name} not found on {self.bootstrap_servers}")
                await consumer.topics()  # refreshes metadata
                await asyncio.sleep(0.2)
            partitions += [TopicPartition(name, p) for p in sorted(parts)]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        for tp in partitions:
            await consumer.position(tp)
        self.seen = {t: {} for t in self.watched}
        self._task = asyncio.create_task(self._run(names))

    async def _run(self, names: dict[str, str]) -> None:
        assert self._consumer is not None
        while True:
            batches = await self._consumer.getmany(timeout_ms=200, max_records=5000)
            for tp, messages in batches.items():
                per_order = self.seen[names[tp.topic]]
                for message in messages:
                    if message.key is None:  # not an order's event (a nudge, see common.nudge)
                        continue
                    order_id = message.key.decode()
                    if order_id in per_order:
                        self.redelivered += 1
                    else:
                        per_order[order_id] = message.timestamp / 1000

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    def check(self) -> None:
        """Raises what stopped the reading task, if it stopped."""
        if self._task is not None and self._task.done():
            self._task.result()

    def outcome(self, order_id: str) -> str | None:
        """ "done" at the last topic, a failure kind after a failing event, else None."""
        if order_id in self.seen.get(self.topics[-1], {}):
            return "done"
        for topic, kind in FAILED.items():
            if order_id in self.seen.get(topic, {}):
                return kind
        return None

    async def wait_for(
        self, order_ids: Collection[str], *, timeout_s: float, poll_s: float = 0.2
    ) -> list[str]:
        """Waits until every order finished or failed; the ids still in flight at the timeout."""
        pending = set(order_ids)
        deadline = time.monotonic() + timeout_s
        while pending and time.monotonic() < deadline:
            self.check()
            pending = {o for o in pending if self.outcome(o) is None}
            if pending:
                await asyncio.sleep(poll_s)
        return sorted(pending)
