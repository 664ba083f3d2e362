"""The Kafka wire format of events: CloudEvents 1.0 in the Kafka binding's binary mode, the
envelope's attributes as ce_<name> headers, datacontenttype as `content-type`, the data as the
value, the subject as the key. lvyue.common.kafka is the broker client side.

Written and read here, not through the cloudevents package's binding: per 1 kB order event its
writer took 15 us (a CloudEvent built and validated again, its format's hooks) and its reader
39 us (ce_time parsed with dateutil, a CloudEvent built only to be taken apart); here 4 and 12
us (2026-12-06). The binding stays the tests' oracle: what one writes, the other reads the same
(tests/unit/common/test_events.py).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError

from lvyue.common.events.envelope import Envelope

# The JSON media types, as the binding recognises them (application/json, text/json, +json).
_JSON_TYPE = re.compile(r"^(application|text)/([a-zA-Z0-9\-\.]+\+)?json(;.*)?$")
_REQUIRED = ("id", "time", "type", "source")
JSON = "application/json"

Headers = list[tuple[str, bytes]]


class MalformedEvent(ValueError):
    """A Kafka message that is not a CloudEvent this system can read."""


def to_kafka(envelope: Envelope) -> tuple[bytes, bytes, Headers]:
    """(key, value, headers) for producing an envelope; key = subject (the order id)."""
    return binary_message(
        event_id=envelope.id, type=envelope.type, source=envelope.source,
        subject=envelope.subject, time=envelope.time, dataschema=envelope.dataschema,
        data=envelope.data, datacontenttype=envelope.datacontenttype,
    )  # fmt: skip


def binary_message(
    *,
    event_id: uuid.UUID,
    type: str,
    source: str,
    subject: str,
    time: datetime,
    dataschema: str,
    data: Mapping[str, Any],
    datacontenttype: str = JSON,
) -> tuple[bytes, bytes, Headers]:
    """(key, value, headers) of one event from its attributes, e.g. an outbox row's, which
    need no envelope built to be sent as they were emitted."""
    stamp = time.isoformat()
    if stamp.endswith("+00:00"):
        stamp = stamp[:-6] + "Z"
    headers: Headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", str(event_id).encode()),
        ("ce_type", type.encode()),
        ("ce_source", source.encode()),
        ("ce_time", stamp.encode()),
        ("content-type", datacontenttype.encode()),
    ]
    if subject:
        headers.append(("ce_subject", subject.encode()))
    if dataschema:
        headers.append(("ce_dataschema", dataschema.encode()))
    return subject.encode(), _json_value(data), headers


def _json_value(data: Mapping[str, Any]) -> bytes:
    try:
        return orjson.dumps(data)
    except TypeError:  # orjson.JSONEncodeError: integers past 64 bits; the stdlib writes them
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def from_kafka(
    key: bytes | None, value: bytes | None, headers: Sequence[tuple[str, bytes | None]]
) -> Envelope:
    """The envelope of a message in binary mode, read as the binding maps it: ce_<attribute>
    headers (names in any case), `content-type` for datacontenttype, the value as data.
    MalformedEvent for anything unreadable."""
    attributes: dict[str, str] = {}
    content_type = JSON
    for name, raw in headers:
        lowered = name.lower()
        if lowered.startswith("ce_"):
            attributes[lowered[3:]] = _header_text(name, raw)
        elif lowered == "content-type":
            content_type = _header_text(name, raw)
    # An id must come from the producer, or every redelivery would look new to the inbox.
    missing = [f"ce_{name}" for name in _REQUIRED if not attributes.get(name)]
    if missing:
        raise MalformedEvent(f"not a CloudEvent in binary mode: missing {', '.join(missing)}")
    if attributes.get("specversion", "1.0") != "1.0":
        raise MalformedEvent(f"CloudEvents {attributes['specversion']!r}: only 1.0 is read")
    if not _JSON_TYPE.match(content_type):
        raise MalformedEvent(f"event data must be JSON, not {content_type!r}")
    data = json_object(value or b"")
    try:
        return Envelope(
            id=attributes["id"],
            type=attributes["type"],
            source=attributes["source"],
            subject=attributes.get("subject") or "",
            time=attributes["time"],
            dataschema=attributes.get("dataschema") or "",
            datacontenttype=content_type,
            data=data,
        )
    except ValidationError as exc:
        raise MalformedEvent(f"not a readable CloudEvent: {exc}") from exc


def _header_text(name: str, raw: bytes | None) -> str:
    if raw is None:  # Kafka allows a header without a value; no attribute is one
        raise MalformedEvent(f"header {name} has no value")
    try:
        return raw.decode()
    except UnicodeDecodeError as exc:
        raise MalformedEvent(f"header {name} is not UTF-8: {exc}") from exc


def json_object(value: bytes | str) -> dict[str, Any]:
    """Event data from its JSON (a message's value, an outbox row's stored text)."""
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError:
        try:  # the stdlib's reading takes what it writes and orjson refuses: NaN, Infinity
            data = json.loads(value)
        except ValueError as exc:
            raise MalformedEvent(f"event data is not JSON: {exc}") from exc
        except RecursionError:  # past orjson's 1,024 levels too: a poison, not a crash
            raise MalformedEvent("event data is nested too deep to read") from None
    if not isinstance(data, dict):
        raise MalformedEvent("event data must be a JSON object")
    return data
