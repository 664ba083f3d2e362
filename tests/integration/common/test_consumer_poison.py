"""Poison messages against the real broker and PostgreSQL: whatever a message carries, it is
dead-lettered (stored as far as PostgreSQL allows, exactly on `<topic>.dlq`) and the good
message right behind it on the same partition is handled within the retry policy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.cli.embedded import BROKER_FETCH_MAX_WAIT_MS, EmbeddedBroker
from lvyue.common.consumer import ConsumerRunner, RetryPolicy, Subscription
from lvyue.common.deadlines.store import open_deadline
from lvyue.common.events import Envelope, new_event
from lvyue.common.events.codec import to_kafka
from lvyue.common.tables import dead_letters, deadlines
from lvyue.common.uow import UnitOfWork
from tests.support.events import PING, Ping
from tests.support.kafka import read_topic
from tests.support.kernel import Wiring, consuming, wired
from tests.support.polling import eventually

NAME = "test-poison"
RETRY = RetryPolicy(max_attempts=3, initial_s=0.01, max_s=0.05)
Headers = list[tuple[str, bytes | None]]


@dataclass(frozen=True)
class Message:
    key: bytes | None
    value: bytes
    headers: Headers


def _event(n: int, *, poison: bool = False, note: str = "") -> Message:
    envelope = new_event(
        PING,
        Ping(n=n, poison=poison, note=note),
        subject="order-1",
        source="/lvyue/test",
        time=datetime.now(UTC),
    )
    key, value, headers = to_kafka(envelope)
    return Message(key, value, list(headers))


def _with_header(message: Message, name: str, value: bytes | None) -> Message:
    headers = [(n, v) for n, v in message.headers if n != name]
    return Message(message.key, message.value, [*headers, (name, value)])


def _nul_in_key() -> Message:
    poison = _event(1, poison=True)  # the handler fails: retried, then dead-lettered
    return Message(b"order-\x00-1", poison.value, poison.headers)


def _nul_in_header_value() -> Message:
    return _with_header(_event(1), "ce_id", b"\x00not-a-uuid")


def _header_with_null_value() -> Message:
    return _with_header(_event(1), "ce_type", None)


def _invalid_utf8_value() -> Message:
    good = _event(1)
    return Message(good.key, b'\xff\xfe{"n": 1', good.headers)


def _nested_too_deep() -> Message:
    # Past any JSON reader's recursion limit: refused as malformed, never a crash.
    good = _event(1)
    return Message(good.key, b'{"n": ' + b"[" * 3000 + b"]" * 3000 + b"}", good.headers)


def _nul_in_json_string() -> Message:
    # Valid JSON ("\u0000"); the handler puts the text in a text column, which refuses it.
    return _event(1, note="order-\x00-1")


async def _handle(event: Envelope, uow: UnitOfWork) -> None:
    ping = event.payload(Ping)
    if ping.poison:
        raise RuntimeError(f"cannot handle ping {ping.n}")
    now = uow.clock.now()
    subject = f"ping-{ping.n}{ping.note}"
    await open_deadline(uow, sla="test", subject=subject, opened_at=now, due_at=now)


def _runner(w: Wiring) -> ConsumerRunner:
    return ConsumerRunner(
        name=NAME,
        subscriptions=[Subscription(PING, _handle)],
        uow_factory=w.uow,
        producer=w.producer,
        bootstrap_servers=w.bootstrap,
        fetch_max_wait_ms=BROKER_FETCH_MAX_WAIT_MS,
        topic_prefix=w.prefix,
        retry=RETRY,
        session_timeout_ms=2000,
    )


async def _produce(w: Wiring, messages: list[Message]) -> list[int]:
    """Offsets of `messages`, produced in order to partition 0 in one tight loop: records racing
    to one partition in several requests may leave the last one invisible on the embedded
    broker."""
    topic = w.prefix + PING.topic
    await w.producer.partitions_for(topic)  # metadata first: no send below waits for it
    futures = [
        await w.producer.send(topic, value=m.value, key=m.key, headers=m.headers, partition=0)
        for m in messages
    ]
    return [(await f).offset for f in futures]


async def _subjects(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(deadlines.c.subject))).scalars())


async def _letters(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        return list(await conn.execute(select(dead_letters)))


async def _committed(w: Wiring, runner: ConsumerRunner) -> int:
    return await runner.committed(w.prefix + PING.topic)


def _failures(w: Wiring) -> float:
    labels = {"consumer": NAME, "topic": w.prefix + PING.topic}
    value = REGISTRY.get_sample_value("lvyue_consumer_dead_letter_failures_total", labels)
    return value or 0.0


@pytest.mark.parametrize(
    ("poison", "stored_key", "stored_header"),
    [
        (_nul_in_key, "order-\\x00-1", None),
        (_nul_in_header_value, "order-1", ("ce_id", {"base64": "AG5vdC1hLXV1aWQ="})),
        (_header_with_null_value, "order-1", ("ce_type", None)),
        (_invalid_utf8_value, "order-1", None),
        (_nul_in_json_string, "order-1", None),
        (_nested_too_deep, "order-1", None),
    ],
    ids=[
        "nul-in-key",
        "nul-in-header-value",
        "header-with-null-value",
        "invalid-utf8-value",
        "nul-in-json-string",
        "nested-too-deep",
    ],
)
async def test_a_poison_is_dead_lettered_and_the_message_behind_it_is_handled(
    engine: AsyncEngine,
    broker: EmbeddedBroker,
    topic_prefix: str,
    poison: Callable[[], Message],
    stored_key: str,
    stored_header: tuple[str, Any] | None,
) -> None:
    bad, good = poison(), _event(2)
    async with wired(engine, broker.bootstrap_servers, topic_prefix) as w:
        poison_offset, _ = await _produce(w, [bad, good])
        runner = _runner(w)
        async with consuming(runner):
            # Joining the group takes a few seconds; the retries of the poison well under one.
            assert await eventually(lambda: _subjects(engine), bool, timeout_s=20) == ["ping-2"]
            await eventually(lambda: _committed(w, runner), lambda n: n == 2, timeout_s=10)
        assert _failures(w) == 0

    [letter] = await _letters(engine)
    assert (letter.partition, letter.offset) == (0, poison_offset)
    assert letter.key == stored_key
    assert letter.value == bad.value
    if stored_header is not None:
        name, value = stored_header
        assert letter.headers[name] == value
    # The topic keeps the message exactly, whatever the database had to escape.
    [parked] = await read_topic(
        broker.bootstrap_servers, topic_prefix + PING.topic + ".dlq", expect=1
    )
    assert (parked.key, parked.value) == (bad.key, bad.value)
    assert [h for h in parked.headers if not h[0].startswith("lvyue_")] == bad.headers


async def test_a_dead_letter_store_that_fails_holds_the_partition_visibly_then_recovers(
    engine: AsyncEngine, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    async with engine.begin() as conn:  # the dead-letter store is gone
        await conn.execute(text("ALTER TABLE dead_letters RENAME TO dead_letters_away"))
    async with wired(engine, broker.bootstrap_servers, topic_prefix) as w:
        await _produce(w, [_invalid_utf8_value(), _event(2)])
        runner = _runner(w)
        async with consuming(runner):
            await eventually(lambda: _async(_failures(w)), lambda n: n >= 2, timeout_s=20)
            # Nothing skipped: the message behind waits instead of overtaking the poison.
            assert await _subjects(engine) == []
            assert await _committed(w, runner) == 0
            async with engine.begin() as conn:
                await conn.execute(text("ALTER TABLE dead_letters_away RENAME TO dead_letters"))
            await eventually(lambda: _subjects(engine), bool, timeout_s=20)
            await eventually(lambda: _committed(w, runner), lambda n: n == 2, timeout_s=10)
    assert len(await _letters(engine)) == 1


async def _async(value: float) -> float:
    return value
