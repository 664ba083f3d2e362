"""Producing events the way another service's relay would, straight onto the real broker."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel

from lvyue.common.events import EventType, new_event
from lvyue.common.events.codec import to_kafka
from lvyue.common.kafka import make_producer


async def publish(
    bootstrap: str, prefix: str, spec: EventType, payload: BaseModel, *, subject: str, source: str
) -> None:
    envelope = new_event(spec, payload, subject=subject, source=source, time=datetime.now(UTC))
    key, value, headers = to_kafka(envelope)
    producer = make_producer(bootstrap, idempotent=False)
    await producer.start()
    try:
        await producer.send_and_wait(prefix + spec.topic, value=value, key=key, headers=headers)
    finally:
        await producer.stop()
