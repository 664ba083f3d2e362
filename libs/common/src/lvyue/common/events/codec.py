"""The Kafka wire format of events: CloudEvents binary mode (ce_* headers) via the cloudevents
package's Kafka binding; lvyue.common.kafka is the broker client side (producers, topics)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from typing import Any

import orjson
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary, to_binary
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from lvyue.common.events.envelope import Envelope


class _OrjsonFormat(JSONFormat):
    """The binding's JSON format, its data (JSON types only: an envelope's data is dumped in
    JSON mode) written and read with orjson. Under load the stdlib's encoder took 7.6% of
    order-review's consumers (py-spy); per 1.1 kB order event, measured 2026-12-06: to_kafka
    31 -> 16 us, from_kafka 55 -> 43 us, and 20% fewer bytes (compact, UTF-8)."""

    def write_data(
        self, data: dict[str, Any] | str | bytes | None, datacontenttype: str | None
    ) -> bytes:
        if isinstance(data, dict):
            with contextlib.suppress(orjson.JSONEncodeError):  # then as the stdlib would
                return orjson.dumps(data)
        return super().write_data(data, datacontenttype)

    def read_data(
        self, body: bytes, datacontenttype: str | None
    ) -> dict[str, Any] | str | bytes | None:
        content_type = datacontenttype or self.DEFAULT_CONTENT_TYPE
        if body[:1] == b"{" and re.match(self.JSON_CONTENT_TYPE_PATTERN, content_type):
            try:
                parsed: dict[str, Any] = orjson.loads(body)
                return parsed
            except orjson.JSONDecodeError:
                pass  # the stdlib's reading (it takes NaN, big integers): as before
        return super().read_data(body, datacontenttype)


_FORMAT = _OrjsonFormat()

Headers = list[tuple[str, bytes]]


class MalformedEvent(ValueError):
    """A Kafka message that is not a CloudEvent this system can read."""


def to_kafka(envelope: Envelope) -> tuple[bytes, bytes, Headers]:
    """(key, value, headers) for producing an envelope; key = subject (the order id)."""
    event = CloudEvent(
        attributes={
            "id": str(envelope.id),
            "type": envelope.type,
            "source": envelope.source,
            "subject": envelope.subject,
            "time": envelope.time,
            "dataschema": envelope.dataschema,
            "datacontenttype": envelope.datacontenttype,
        },
        data=envelope.data,
    )
    message = to_binary(event, _FORMAT, key_mapper=lambda e: e.get_subject())
    key = message.key.encode() if isinstance(message.key, str) else (message.key or b"")
    return key, message.value, list(message.headers.items())


def from_kafka(
    key: bytes | None, value: bytes | None, headers: Sequence[tuple[str, bytes]]
) -> Envelope:
    present = {name for name, _ in headers}
    # The binding would invent a random id and time; an id must come from the producer or
    # every redelivery would look new to the inbox.
    missing = [h for h in ("ce_id", "ce_time", "ce_type", "ce_source") if h not in present]
    if missing:
        raise MalformedEvent(f"not a CloudEvent in binary mode: missing {', '.join(missing)}")
    try:
        message = KafkaMessage(headers=dict(headers), key=key, value=value or b"")
        event = from_binary(message, _FORMAT)
        attributes: dict[str, Any] = event.get_attributes()
        data = event.get_data()
        if not isinstance(data, dict):
            raise MalformedEvent("event data must be a JSON object")
        return Envelope(
            id=attributes["id"],
            type=attributes["type"],
            source=attributes["source"],
            subject=attributes.get("subject") or "",
            time=attributes["time"],
            dataschema=attributes.get("dataschema") or "",
            datacontenttype=attributes.get("datacontenttype") or "application/json",
            data=data,
        )
    except MalformedEvent:
        raise
    except Exception as exc:  # the binding raises several types; all mean "not readable"
        raise MalformedEvent(f"not a readable CloudEvent: {exc}") from exc
