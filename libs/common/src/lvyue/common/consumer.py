"""Consumer runner: what one poll returned is handled in one unit of work, then committed.

Per poll: the inbox rows of every message in one statement, the handlers in offset order per
partition, one database commit, then one offset commit for every partition. Offsets are
committed only after the database commit. If anything in the batch fails, the whole batch is
rolled back and its messages are handled one by one instead, each in its own unit of work: a
failing message is retried with backoff, then parked on `<topic>.dlq` (and in the
dead_letters table) so its partition moves on, and a poison never fails its neighbours.
A redelivered event finds its inbox row and changes nothing. A nudge (see `lvyue.common.nudge`:
the embedded broker's workaround) is no event: it is committed past, never handled or recorded.

Dead-lettering is total: whatever PostgreSQL text/jsonb refuses (U+0000, invalid UTF-8, a
header without a value) is escaped or base64-encoded, so no message content can stop its
partition. Only an unreachable database or broker can; the runner then rewinds and backs
off, counting each attempt on `lvyue_consumer_dead_letter_failures_total` (alerted).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import exists, select
from tenacity import AsyncRetrying, stop_after_attempt, wait_exponential_jitter

from lvyue.common.events import Envelope, EventType, dead_letter_topic
from lvyue.common.events.codec import MalformedEvent, from_kafka
from lvyue.common.kafka import evict_previous_members
from lvyue.common.nudge import is_nudge
from lvyue.common.tables import dead_letters
from lvyue.common.uow import UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger(__name__)

Handler = Callable[[Envelope, UnitOfWork], Awaitable[None]]
BatchHandler = Callable[[Sequence[Envelope], UnitOfWork], Awaitable[None]]

HANDLED = Counter(
    "lvyue_consumer_messages_total", "Messages handled", ["consumer", "topic", "outcome"]
)
DEAD_LETTERED = Counter(
    "lvyue_consumer_dead_letters_total",
    "Messages parked on a dead-letter topic",
    ["consumer", "topic"],
)
DEAD_LETTER_FAILURES = Counter(
    "lvyue_consumer_dead_letter_failures_total",
    "Messages that could not even be dead-lettered (database or broker down): the partition "
    "rewinds and waits",
    ["consumer", "topic"],
)
HANDLE_SECONDS = Histogram(
    "lvyue_consumer_handle_seconds", "Time to handle one message", ["consumer", "topic"]
)
BATCH_SIZE = Histogram(
    "lvyue_consumer_batch_messages",
    "Messages handled per batch transaction",
    ["consumer"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
)
BATCH_FALLBACKS = Counter(
    "lvyue_consumer_batch_fallbacks_total",
    "Batches rolled back and handled one message at a time",
    ["consumer"],
)
LAG = Gauge(
    "lvyue_consumer_lag_messages", "Messages behind the partition end", ["consumer", "topic"]
)
OFFSET_GAPS = Counter(
    "lvyue_consumer_offset_gaps_total",
    "Offsets a fetch skipped in a partition (the embedded broker with racing writes): read again"
    " from the gap (reread), or taken as a real gap after LVYUE_KAFKA_OFFSET_GAP_WAIT_MS "
    "(accepted)",
    ["consumer", "outcome"],
)
ASSIGNED = Gauge(
    "lvyue_consumer_assigned_partitions",
    "Partitions the group gave this process (0 while it joins: it consumes nothing yet)",
    ["consumer"],
)


class _Assignment(ConsumerRebalanceListener):  # type: ignore[misc]
    """Keeps the assigned-partitions gauge and `partitions` current across rebalances."""

    def __init__(self, consumer: str, on_revoked: Callable[[], None] | None = None) -> None:
        self.consumer = consumer
        self.partitions = 0
        self._on_revoked = on_revoked
        ASSIGNED.labels(consumer).set(0)

    async def on_partitions_revoked(self, revoked: object) -> None:
        self.partitions = 0
        ASSIGNED.labels(self.consumer).set(0)
        if self._on_revoked is not None:
            self._on_revoked()

    async def on_partitions_assigned(self, assigned: frozenset[object]) -> None:
        self.partitions = len(assigned)
        ASSIGNED.labels(self.consumer).set(len(assigned))


@dataclass(frozen=True)
class Subscription:
    """A topic's handler. `batch_handler`, where given, takes every new event of the topic in
    one poll at once (offset order per partition) with the same effect as `handler` applied to
    each in turn; `handler` stays the path of a batch that failed."""

    event: EventType
    handler: Handler
    batch_handler: BatchHandler | None = None


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    initial_s: float = 0.2
    max_s: float = 5.0


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
        fetch_max_wait_ms: int = 100,
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
        self.assignment: _Assignment | None = None  # set at start; the join runs after it
        self._gap_wait_s = offset_gap_wait_s
        self._next_offsets: dict[TopicPartition, int] = {}  # the offset expected next
        self._gaps: dict[TopicPartition, tuple[int, float]] = {}  # missing offset, since

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
        self._forget_offsets()  # a restart (a new broker, maybe) starts from committed offsets
        self.assignment = _Assignment(self.name, on_revoked=self._forget_offsets)
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
            if self._gap_wait_s and batches:
                batches = self._hold_at_gaps(consumer, batches)
            if not batches:
                continue
            await self.handle_poll(batches)
            self._update_lag(consumer, batches)

    def _forget_offsets(self) -> None:
        """After a rebalance the partitions continue from their committed offsets."""
        self._next_offsets.clear()
        self._gaps.clear()

    def _hold_at_gaps(
        self,
        consumer: AIOKafkaConsumer,
        batches: dict[TopicPartition, list[ConsumerRecord[Any, Any]]],
    ) -> dict[TopicPartition, list[ConsumerRecord[Any, Any]]]:
        """The records of the poll up to the first offset missing in their partition; that
        partition is read again from the missing offset (see `offset_gap_wait_s`). A lower
        offset than expected is a rewind (a seek after a failure) and taken as it comes."""
        now = time.monotonic()
        kept: dict[TopicPartition, list[ConsumerRecord[Any, Any]]] = {}
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
                    OFFSET_GAPS.labels(self.name, "reread").inc()
                if now - since < self._gap_wait_s:
                    if tp in consumer.assignment():  # else: it moved to another member
                        consumer.seek(tp, missing)
                    messages = messages[:cut]
                else:
                    log.warning(
                        "offset_gap_accepted",
                        consumer=self.name,
                        topic=tp.topic,
                        partition=tp.partition,
                        missing_from=missing,
                        next_offset=messages[cut].offset,
                        waited_s=round(now - since, 2),
                    )
                    OFFSET_GAPS.labels(self.name, "accepted").inc()
                    del self._gaps[tp]
                    expected = messages[-1].offset + 1
            if expected is not None:
                self._next_offsets[tp] = expected
            if messages:
                kept[tp] = messages
        return kept

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
                consumer.seek(tp, message.offset)
                await asyncio.sleep(self._retry.max_s)
                return
            if not await self._commit_offsets({tp: message.offset + 1}):
                # Read the rest again if the partition is still ours: nothing is skipped.
                with contextlib.suppress(KafkaError):
                    consumer.seek(tp, message.offset + 1)
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
        error = storable_text(error)
        headers: list[tuple[str, bytes | None]] = [
            *(message.headers or []),
            ("lvyue_error", error.encode()[:4000]),
            ("lvyue_consumer", self.name.encode()),
            ("lvyue_attempts", str(attempts).encode()),
            ("lvyue_origin", f"{message.topic}/{message.partition}/{message.offset}".encode()),
        ]
        # Recorded in the database too: the embedded broker keeps nothing across restarts.
        async with self._uow_factory() as uow:
            # Once per message: a rewind after a failed send must not park it twice.
            parked = select(
                exists().where(
                    dead_letters.c.consumer == self.name,
                    dead_letters.c.topic == message.topic,
                    dead_letters.c.partition == message.partition,
                    dead_letters.c.offset == message.offset,
                )
            )
            if not (await uow.session.execute(parked)).scalar_one():
                await uow.session.execute(
                    dead_letters.insert().values(
                        consumer=self.name,
                        topic=message.topic,
                        partition=message.partition,
                        offset=message.offset,
                        key=storable_bytes(message.key) if message.key is not None else None,
                        event_id=str(envelope.id) if envelope else None,
                        event_type=storable_text(envelope.type) if envelope else None,
                        error=error,
                        attempts=attempts,
                        headers=storable_headers(message.headers or ()),
                        value=message.value or b"",
                    )
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


def storable_text(value: str) -> str:
    """`value` as PostgreSQL text accepts it: U+0000 and lone surrogates as backslash escapes."""
    text = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return text.replace("\x00", "\\x00")


def storable_bytes(raw: bytes) -> str:
    """Raw bytes as readable text: invalid UTF-8 as \\xNN escapes (the exact bytes stay on the
    dead-letter topic)."""
    return storable_text(raw.decode("utf-8", "backslashreplace"))


def storable_headers(headers: Sequence[tuple[str, bytes | None]]) -> dict[str, Any]:
    """Headers as jsonb: clean UTF-8 as text, a missing value as null, anything else (U+0000,
    invalid UTF-8) as {"base64": ...} so nothing is lost or refused."""
    stored: dict[str, Any] = {}
    for name, value in headers:
        key = storable_text(name)
        if value is None:
            stored[key] = None
            continue
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is None or "\x00" in text:
            stored[key] = {"base64": base64.b64encode(value).decode("ascii")}
        else:
            stored[key] = text
    return stored
