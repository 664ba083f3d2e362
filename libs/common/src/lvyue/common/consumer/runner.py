"""The consumer runner: what one poll returned is handled in one unit of work, then committed
(see the package docstring for the whole contract)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from tenacity import AsyncRetrying, stop_after_attempt, wait_exponential_jitter

from lvyue.common.consumer.assignment import Assignment
from lvyue.common.consumer.dead_letters import (
    dead_letter_headers,
    record_dead_letter,
    storable_text,
)
from lvyue.common.consumer.metrics import (
    BATCH_FALLBACKS,
    BATCH_SIZE,
    DEAD_LETTER_FAILURES,
    DEAD_LETTERED,
    HANDLE_SECONDS,
    HANDLED,
    LAG,
)
from lvyue.common.consumer.offset_gaps import OffsetGaps
from lvyue.common.consumer.subscriptions import Handler, RetryPolicy, Subscription
from lvyue.common.events import Envelope, dead_letter_topic
from lvyue.common.events.codec import MalformedEvent, from_kafka
from lvyue.common.kafka import evict_previous_members
from lvyue.common.logging import mask_text
from lvyue.common.nudge import is_nudge
from lvyue.common.uow import UnitOfWorkFactory

log = structlog.get_logger(__name__)


class ConsumerRunner:
    def __init__(
        self,
        *,
        name: str,
        subscriptions: Sequence[Subscription],
        uow_factory: UnitOfWorkFactory,
        producer: AIOKafkaProducer,
        bootstrap_servers: str,
        topic_prefix: str = "",
        retry: RetryPolicy = RetryPolicy(),
        max_records: int = 500,
        session_timeout_ms: int = 10000,
        fetch_max_wait_ms: int = 500,
        instance: str | None = None,
        offset_gap_wait_s: float = 0.0,
    ) -> None:
        """`instance` names this process among the group's members, stable across its
        restarts (`lvyue run` passes the replica): a restart then evicts the member its
        killed predecessor left, instead of waiting out the session timeout.

        `offset_gap_wait_s` (embedded broker only; 0 = off): a fetch that returns a partition's
        records with an offset missing before them is not taken as it is. With racing writes
        the embedded broker can answer with a later record before an earlier acked one is
        stored, and a consumer moving on would never read the earlier one: the runner keeps
        what came before the gap, reads the partition again from the gap, and only after this
        long takes the gap as real (logged, counted). Offsets are contiguous on that broker."""
        self.name = name
        self._instance = instance
        self._uow_factory = uow_factory
        self._producer = producer
        self._bootstrap = bootstrap_servers
        self._prefix = topic_prefix
        self._retry = retry
        self._max_records = max_records
        self._session_timeout_ms = session_timeout_ms
        self._fetch_max_wait_ms = fetch_max_wait_ms
        self._handlers = {topic_prefix + s.event.topic: s.handler for s in subscriptions}
        self._batch_handlers = {
            topic_prefix + s.event.topic: s.batch_handler
            for s in subscriptions
            if s.batch_handler is not None
        }
        self._consumer: AIOKafkaConsumer | None = None
        self.assignment: Assignment | None = None  # set at start; the join runs after it
        self._gaps = OffsetGaps(name, offset_gap_wait_s)

    @property
    def topics(self) -> list[str]:
        return sorted(self._handlers)

    @property
    def group(self) -> str:
        return self._prefix + self.name

    async def committed(self, topic: str) -> int:
        """The group's committed offsets of `topic` (its full name), summed over partitions."""
        if self._consumer is None:
            return 0
        total = 0
        for partition in self._consumer.partitions_for_topic(topic) or set():
            total += await self._consumer.committed(TopicPartition(topic, partition)) or 0
        return total

    async def start(self) -> None:
        """Connects and subscribes without waiting for the group to assign partitions: the
        join (seconds on any broker) goes on in the background, so the service serves HTTP
        at once; `run` consumes from the assignment, at the committed offsets."""
        client_id = f"lvyue-{self.group}-{self._instance}" if self._instance else None
        if client_id is not None:
            await evict_previous_members(self._bootstrap, self.group, client_id)
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=self.group,
            client_id=client_id or "aiokafka",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self._max_records,
            session_timeout_ms=self._session_timeout_ms,
            heartbeat_interval_ms=max(300, self._session_timeout_ms // 3),
            fetch_max_wait_ms=self._fetch_max_wait_ms,
        )
        await self._consumer.start()
        self._gaps.forget()  # a restart (a new broker, maybe) starts from committed offsets
        self.assignment = Assignment(self.name, on_revoked=self._gaps.forget)
        self._consumer.subscribe(self.topics, listener=self.assignment)
        for topic in self.topics:
            # Present at 0 from the start, so the first failure is an increase an alert sees.
            DEAD_LETTER_FAILURES.labels(self.name, topic)

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    async def run(self, stop: asyncio.Event) -> None:
        """Consumes until `stop` is set; the batch in hand is finished and committed first."""
        consumer = self._consumer
        if consumer is None:
            raise RuntimeError("start() the runner first")
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=self._max_records)
            if self._gaps.wait_s and batches:
                batches = self._gaps.hold(consumer, batches)
            if not batches:
                continue
            await self.handle_poll(batches)
            self._update_lag(consumer, batches)

    async def handle_poll(
        self, batches: dict[TopicPartition, list[ConsumerRecord[Any, Any]]]
    ) -> None:
        """One transaction and one offset commit for the poll; one by one if that fails."""
        consumer = self._consumer
        assert consumer is not None
        try:
            envelopes = [
                (message, from_kafka(message.key, message.value, message.headers))
                for messages in batches.values()
                for message in messages
                if not is_nudge(message.value, message.headers)  # no event: offsets move on
            ]
        except MalformedEvent:
            envelopes = None  # dead-lettered one by one, in its place in the partition
        if envelopes == []:  # nudges only (embedded broker): nothing to handle
            await self._commit_offsets(
                {tp: messages[-1].offset + 1 for tp, messages in batches.items()}
            )
            return
        if envelopes is not None:
            try:
                outcomes = await self._handle_batch(envelopes)
            except Exception as exc:
                BATCH_FALLBACKS.labels(self.name).inc()
                log.warning(
                    "batch_failed_handling_one_by_one",
                    consumer=self.name,
                    messages=len(envelopes),
                    error=repr(exc),
                )
            else:
                for topic, outcome in outcomes:
                    HANDLED.labels(self.name, topic, outcome).inc()
                BATCH_SIZE.labels(self.name).observe(len(envelopes))
                await self._commit_offsets(
                    {tp: messages[-1].offset + 1 for tp, messages in batches.items()}
                )
                return
        await asyncio.gather(*(self._run_partition(tp, msgs) for tp, msgs in batches.items()))

    async def _handle_batch(
        self, envelopes: list[tuple[ConsumerRecord[Any, Any], Envelope]]
    ) -> list[tuple[str, str]]:
        """Every message of the poll in one unit of work; (topic, outcome) per message."""
        outcomes: list[tuple[str, str]] = []
        timings: list[tuple[str, float]] = []
        # Topics with a batch handler: their events at once, after the others (events of
        # different topics carry no order between them).
        together: dict[str, list[Envelope]] = {}
        async with self._uow_factory() as uow:
            fresh = await uow.mark_processed_many(self.name, [str(e.id) for _, e in envelopes])
            for message, envelope in envelopes:
                event_id = str(envelope.id)
                if event_id not in fresh:  # seen before, or twice in this very poll
                    outcomes.append((message.topic, "duplicate"))
                    continue
                fresh.discard(event_id)
                outcomes.append((message.topic, "handled"))
                if message.topic in self._batch_handlers:
                    together.setdefault(message.topic, []).append(envelope)
                    continue
                started = time.perf_counter()
                await self._handlers[message.topic](envelope, uow)
                timings.append((message.topic, time.perf_counter() - started))
            for topic, events in together.items():
                started = time.perf_counter()
                await self._batch_handlers[topic](events, uow)
                share = (time.perf_counter() - started) / len(events)
                timings.extend((topic, share) for _ in events)
            await uow.commit()
        for topic, seconds in timings:
            HANDLE_SECONDS.labels(self.name, topic).observe(seconds)
        return outcomes

    async def _commit_offsets(self, offsets: dict[TopicPartition, int]) -> bool:
        consumer = self._consumer
        assert consumer is not None
        try:
            await consumer.commit(offsets)
        except KafkaError as exc:
            # Typically the partitions moved to another member in a rebalance: it redelivers
            # from the last committed offsets, and the inbox makes that harmless.
            log.warning("offset_commit_failed", consumer=self.name, error=str(exc))
            return False
        return True

    async def _run_partition(
        self, tp: TopicPartition, messages: list[ConsumerRecord[Any, Any]]
    ) -> None:
        consumer = self._consumer
        assert consumer is not None
        for message in messages:
            try:
                await self._process(message)
            except Exception as exc:
                # Not even dead-lettering worked (database or broker down): rewind so the
                # message is read again instead of being skipped, and back off.
                DEAD_LETTER_FAILURES.labels(self.name, tp.topic).inc()
                log.error(
                    "message_not_processed",
                    consumer=self.name,
                    topic=tp.topic,
                    partition=tp.partition,
                    offset=message.offset,
                    error=repr(exc),
                )
                _rewind(consumer, tp, message.offset)
                await asyncio.sleep(self._retry.max_s)
                return
            if not await self._commit_offsets({tp: message.offset + 1}):
                _rewind(consumer, tp, message.offset + 1)  # nothing is skipped
                return

    async def _process(self, message: ConsumerRecord[Any, Any]) -> None:
        if is_nudge(message.value, message.headers):
            return  # no event: nothing to handle, nothing recorded
        topic = message.topic
        try:
            envelope = from_kafka(message.key, message.value, message.headers)
        except MalformedEvent as exc:
            await self._dead_letter(message, None, error=str(exc), attempts=1)
            return
        handler = self._handlers[topic]
        attempts = 0
        try:
            with HANDLE_SECONDS.labels(self.name, topic).time():
                async for attempt in AsyncRetrying(
                    stop=stop_after_attempt(self._retry.max_attempts),
                    wait=wait_exponential_jitter(
                        multiplier=self._retry.initial_s,
                        max=self._retry.max_s,
                        jitter=self._retry.initial_s,
                    ),
                    reraise=True,
                ):
                    with attempt:
                        attempts += 1
                        outcome = await self._handle_once(envelope, handler)
        except Exception as exc:
            log.error(
                "message_dead_lettered",
                consumer=self.name,
                topic=topic,
                event_id=str(envelope.id),
                attempts=attempts,
                error=repr(exc),
            )
            await self._dead_letter(message, envelope, error=repr(exc), attempts=attempts)
            return
        HANDLED.labels(self.name, topic, outcome).inc()

    async def _handle_once(self, envelope: Envelope, handler: Handler) -> str:
        async with self._uow_factory() as uow:
            if not await uow.mark_processed(self.name, str(envelope.id)):
                return "duplicate"
            await handler(envelope, uow)
            await uow.commit()
        return "handled"

    async def _dead_letter(
        self,
        message: ConsumerRecord[Any, Any],
        envelope: Envelope | None,
        *,
        error: str,
        attempts: int,
    ) -> None:
        # Errors echo what they failed on (a pydantic input, a receiver): SREs read them.
        error = storable_text(mask_text(error))
        headers = dead_letter_headers(message, consumer=self.name, error=error, attempts=attempts)
        async with self._uow_factory() as uow:
            await record_dead_letter(
                uow, message, envelope, consumer=self.name, error=error, attempts=attempts
            )
            await uow.commit()
        await self._producer.send_and_wait(
            dead_letter_topic(message.topic), value=message.value, key=message.key, headers=headers
        )
        DEAD_LETTERED.labels(self.name, message.topic).inc()
        HANDLED.labels(self.name, message.topic, "dead_lettered").inc()

    def _update_lag(
        self,
        consumer: AIOKafkaConsumer,
        batches: dict[TopicPartition, list[ConsumerRecord[Any, Any]]],
    ) -> None:
        assigned = consumer.assignment()
        for tp, messages in batches.items():
            if tp not in assigned:
                continue  # moved to another member while the batch was handled
            end = consumer.highwater(tp)
            if end is not None and messages:
                LAG.labels(self.name, tp.topic).set(max(0, end - messages[-1].offset - 1))


def _rewind(consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> None:
    """Reads `tp` again from `offset` if the partition is still this member's. A rebalance may
    have taken it meanwhile (aiokafka raises IllegalStateError, or fails an assertion while
    the group has no assignment yet): its next owner reads from the committed offset."""
    with contextlib.suppress(KafkaError, AssertionError):
        consumer.seek(tp, offset)
