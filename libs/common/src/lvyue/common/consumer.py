"""Consumer runner: each message handled in a unit of work with an inbox record, then committed.

Offsets are committed only after the database commit; a failing message is retried with
backoff, then parked on `<topic>.dlq` (and in the dead_letters table) so its partition
moves on. A redelivered event finds its inbox row and changes nothing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError
from prometheus_client import Counter, Gauge, Histogram
from tenacity import AsyncRetrying, stop_after_attempt, wait_exponential_jitter

from lvyue.common.events import Envelope, EventType, dead_letter_topic
from lvyue.common.events.kafka import MalformedEvent, from_kafka
from lvyue.common.tables import dead_letters
from lvyue.common.uow import UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger(__name__)

Handler = Callable[[Envelope, UnitOfWork], Awaitable[None]]

HANDLED = Counter(
    "lvyue_consumer_messages_total", "Messages handled", ["consumer", "topic", "outcome"]
)
DEAD_LETTERED = Counter(
    "lvyue_consumer_dead_letters_total",
    "Messages parked on a dead-letter topic",
    ["consumer", "topic"],
)
HANDLE_SECONDS = Histogram(
    "lvyue_consumer_handle_seconds", "Time to handle one message", ["consumer", "topic"]
)
LAG = Gauge(
    "lvyue_consumer_lag_messages", "Messages behind the partition end", ["consumer", "topic"]
)


@dataclass(frozen=True)
class Subscription:
    event: EventType
    handler: Handler


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
    ) -> None:
        self.name = name
        self._uow_factory = uow_factory
        self._producer = producer
        self._bootstrap = bootstrap_servers
        self._prefix = topic_prefix
        self._retry = retry
        self._max_records = max_records
        self._session_timeout_ms = session_timeout_ms
        self._fetch_max_wait_ms = fetch_max_wait_ms
        self._handlers = {topic_prefix + s.event.topic: s.handler for s in subscriptions}
        self._consumer: AIOKafkaConsumer | None = None

    @property
    def topics(self) -> list[str]:
        return sorted(self._handlers)

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self._bootstrap,
            group_id=self._prefix + self.name,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self._max_records,
            session_timeout_ms=self._session_timeout_ms,
            heartbeat_interval_ms=max(300, self._session_timeout_ms // 3),
            fetch_max_wait_ms=self._fetch_max_wait_ms,
        )
        await self._consumer.start()

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
            if not batches:
                continue
            await asyncio.gather(*(self._run_partition(tp, msgs) for tp, msgs in batches.items()))
            self._update_lag(consumer, batches)

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
            try:
                await consumer.commit({tp: message.offset + 1})
            except CommitFailedError as exc:
                # The partition moved to another member during a rebalance; it will redeliver
                # from the last committed offset and the inbox makes that harmless.
                log.warning(
                    "offset_commit_failed", topic=tp.topic, partition=tp.partition, error=str(exc)
                )
                return

    async def _process(self, message: ConsumerRecord[Any, Any]) -> None:
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
        headers = [
            *(message.headers or []),
            ("lvyue_error", error.encode()[:4000]),
            ("lvyue_consumer", self.name.encode()),
            ("lvyue_attempts", str(attempts).encode()),
            ("lvyue_origin", f"{message.topic}/{message.partition}/{message.offset}".encode()),
        ]
        # Recorded in the database too: the embedded broker keeps nothing across restarts.
        async with self._uow_factory() as uow:
            await uow.session.execute(
                dead_letters.insert().values(
                    consumer=self.name,
                    topic=message.topic,
                    partition=message.partition,
                    offset=message.offset,
                    key=message.key.decode(errors="replace") if message.key else None,
                    event_id=str(envelope.id) if envelope else None,
                    event_type=envelope.type if envelope else None,
                    error=error,
                    attempts=attempts,
                    headers=json.loads(
                        json.dumps(
                            {k: v.decode(errors="replace") for k, v in message.headers or []}
                        )
                    ),
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
        for tp, messages in batches.items():
            end = consumer.highwater(tp)
            if end is not None and messages:
                LAG.labels(self.name, tp.topic).set(max(0, end - messages[-1].offset - 1))
