"""Event registry, the CloudEvents envelope and its Kafka binary-mode binding."""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary, to_binary
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from pydantic import BaseModel, ConfigDict

from lvyue.common.events import (
    EVENT_TYPES,
    EventType,
    all_topics,
    by_ce_type,
    dead_letter_topic,
    new_event,
    register,
)
from lvyue.common.events.catalog import ORDER_CREATED, SLA_BREACHED, SlaBreached
from lvyue.common.events.codec import MalformedEvent, from_kafka, to_kafka

T0 = datetime(2024, 6, 18, 14, 41, 7, tzinfo=UTC)
BIG = 2**63 + 12345  # far above 2^53: a float would round it


class Sample(BaseModel):
    model_config = ConfigDict(frozen=True)
    n: int
    label: str = "龙井"


@pytest.fixture(scope="module")
def sample_type() -> EventType:
    # A unique name: the registry is process-wide and tests/support/events.py owns "test.ping".
    return register(f"unit.sample.{uuid.uuid4().hex[:8]}", Sample, version=3)


# --- registry --------------------------------------------------------------------------------


def test_catalog_registers_order_created_and_sla_breached() -> None:
    assert EVENT_TYPES["order.created"] is ORDER_CREATED
    assert EVENT_TYPES["sla.breached"] is SLA_BREACHED


def test_registering_the_same_name_twice_raises(sample_type: EventType) -> None:
    with pytest.raises(ValueError, match="registered twice"):
        register(sample_type.name, Sample)
    assert EVENT_TYPES[sample_type.name] is sample_type


def test_register_defaults_to_version_one() -> None:
    spec = register(f"unit.v1.{uuid.uuid4().hex[:8]}", Sample)
    assert spec.version == 1
    assert spec.dataschema.endswith(":v1")


@pytest.mark.parametrize(
    ("spec", "ce_type", "dataschema", "topic"),
    [
        (ORDER_CREATED, "lvyue.order.created", "urn:lvyue:event:order.created:v1", "order.created"),
        (SLA_BREACHED, "lvyue.sla.breached", "urn:lvyue:event:sla.breached:v1", "sla.breached"),
    ],
)
def test_event_type_names_its_ce_type_dataschema_and_topic(
    spec: EventType, ce_type: str, dataschema: str, topic: str
) -> None:
    assert (spec.ce_type, spec.dataschema, spec.topic) == (ce_type, dataschema, topic)


def test_dataschema_carries_the_registered_version(sample_type: EventType) -> None:
    assert sample_type.dataschema == f"urn:lvyue:event:{sample_type.name}:v3"


@pytest.mark.parametrize(
    ("ce_type", "expected"),
    [
        ("lvyue.order.created", "order.created"),
        ("lvyue.sla.breached", "sla.breached"),
        ("lvyue.no.such.event", None),
        ("com.example.order.created", None),
    ],
)
def test_by_ce_type_finds_the_registered_event_type(ce_type: str, expected: str | None) -> None:
    spec = by_ce_type(ce_type)
    assert (spec.name if spec else None) == expected


def test_dead_letter_topic_appends_dlq() -> None:
    assert dead_letter_topic("order.created") == "order.created.dlq"
    assert dead_letter_topic("t1.order.created") == "t1.order.created.dlq"


@pytest.mark.parametrize("prefix", ["", "t1a2b3c4."])
def test_all_topics_lists_every_topic_and_its_dead_letter_topic_with_the_prefix(
    sample_type: EventType, prefix: str
) -> None:
    topics = all_topics(prefix)
    for spec in EVENT_TYPES.values():
        assert f"{prefix}{spec.topic}" in topics
        assert f"{prefix}{spec.topic}.dlq" in topics
    assert len(topics) == 2 * len(EVENT_TYPES)
    assert all(t.startswith(prefix) for t in topics)


def test_all_topics_keeps_each_dead_letter_topic_after_its_topic() -> None:
    topics = all_topics("p.")
    i = topics.index("p.order.created")
    assert topics[i + 1] == "p.order.created.dlq"


# --- envelope --------------------------------------------------------------------------------


def test_new_event_fills_the_cloudevents_attributes(sample_type: EventType) -> None:
    event = new_event(sample_type, Sample(n=7), subject="order-7", source="/lvyue/unit", time=T0)
    assert event.type == sample_type.ce_type
    assert event.dataschema == sample_type.dataschema
    assert event.subject == "order-7"
    assert event.source == "/lvyue/unit"
    assert event.time == T0
    assert event.datacontenttype == "application/json"
    assert event.data == {"n": 7, "label": "龙井"}
    assert event.payload(Sample) == Sample(n=7)


def test_new_events_get_distinct_ids(sample_type: EventType) -> None:
    a = new_event(sample_type, Sample(n=1), subject="s", source="/x", time=T0)
    b = new_event(sample_type, Sample(n=1), subject="s", source="/x", time=T0)
    assert a.id != b.id


def test_new_event_rejects_a_payload_of_the_wrong_model(sample_type: EventType) -> None:
    wrong = SlaBreached(
        deadline_id=uuid.uuid4(),
        sla="review",
        subject="order-1",
        service="order-review",
        opened_at=T0,
        due_at=T0,
        breached_at=T0,
    )
    with pytest.raises(TypeError, match=f"{sample_type.name} carries Sample, not SlaBreached"):
        new_event(sample_type, wrong, subject="order-1", source="/lvyue/unit", time=T0)


def test_new_event_rejects_a_naive_time(sample_type: EventType) -> None:
    with pytest.raises(ValueError, match="timezone"):
        new_event(sample_type, Sample(n=1), subject="s", source="/x", time=datetime(2024, 6, 18))


# --- Kafka binding ---------------------------------------------------------------------------


def test_to_kafka_uses_the_subject_as_key_and_ce_headers(sample_type: EventType) -> None:
    event = new_event(sample_type, Sample(n=1), subject="order-42", source="/lvyue/unit", time=T0)
    key, value, headers = to_kafka(event)
    named = dict(headers)
    assert key == b"order-42"
    assert named["ce_id"] == str(event.id).encode()
    assert named["ce_type"] == sample_type.ce_type.encode()
    assert named["ce_source"] == b"/lvyue/unit"
    assert named["ce_subject"] == b"order-42"
    assert named["ce_dataschema"] == sample_type.dataschema.encode()
    assert named["ce_specversion"] == b"1.0"
    assert "ce_time" in named
    assert named["content-type"] == b"application/json"
    assert json.loads(value) == {"n": 1, "label": "龙井"}


def test_envelope_survives_a_kafka_round_trip(sample_type: EventType) -> None:
    event = new_event(sample_type, Sample(n=5), subject="order-5", source="/lvyue/unit", time=T0)
    assert from_kafka(*to_kafka(event)) == event


def test_integers_above_two_to_the_53_survive_the_round_trip(sample_type: EventType) -> None:
    event = new_event(sample_type, Sample(n=BIG), subject="o", source="/lvyue/unit", time=T0)
    key, value, headers = to_kafka(event)
    assert str(BIG).encode() in value
    back = from_kafka(key, value, headers)
    assert back.data["n"] == BIG
    assert back.payload(Sample).n == BIG


def test_data_goes_as_compact_utf8_json(sample_type: EventType) -> None:
    event = new_event(sample_type, Sample(n=1), subject="o", source="/lvyue/unit", time=T0)
    _, value, _ = to_kafka(event)
    assert value == '{"n":1,"label":"龙井"}'.encode()


def test_data_only_the_stdlib_reads_is_read_as_before(sample_type: EventType) -> None:
    key, _, headers = _valid_message(sample_type)
    back = from_kafka(key, b'{"n": NaN, "label": "x"}', headers)  # not JSON, yet it was read
    assert math.isnan(back.data["n"])


def test_time_with_an_offset_round_trips_as_the_same_instant(sample_type: EventType) -> None:
    shanghai = T0.astimezone(timezone(timedelta(hours=8)))
    event = new_event(sample_type, Sample(n=1), subject="o", source="/x", time=shanghai)
    assert from_kafka(*to_kafka(event)).time == T0


def test_from_kafka_accepts_list_headers_with_a_missing_key(sample_type: EventType) -> None:
    event = new_event(sample_type, Sample(n=1), subject="order-9", source="/x", time=T0)
    _, value, headers = to_kafka(event)
    back = from_kafka(None, value, headers)
    assert back.subject == "order-9"  # from ce_subject, not from the key


def _valid_message(spec: EventType) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    event = new_event(spec, Sample(n=1), subject="order-1", source="/lvyue/unit", time=T0)
    return to_kafka(event)


def _without(headers: list[tuple[str, bytes]], name: str) -> list[tuple[str, bytes]]:
    return [(k, v) for k, v in headers if k != name]


def _replaced(headers: list[tuple[str, bytes]], name: str, value: bytes) -> list[tuple[str, bytes]]:
    return [(k, value if k == name else v) for k, v in headers]


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda k, v, h: (k, b"not json at all", h), id="non-json-value"),
        pytest.param(lambda k, v, h: (k, b"[1, 2, 3]", h), id="json-array-data"),
        pytest.param(lambda k, v, h: (k, b'"a string"', h), id="json-string-data"),
        pytest.param(lambda k, v, h: (k, b"", h), id="empty-value"),
        pytest.param(lambda k, v, h: (k, None, h), id="no-value"),
        pytest.param(lambda k, v, h: (k, v, []), id="no-headers"),
        pytest.param(lambda k, v, h: (k, v, _without(h, "ce_type")), id="missing-ce_type"),
        pytest.param(lambda k, v, h: (k, v, _without(h, "ce_source")), id="missing-ce_source"),
        pytest.param(
            lambda k, v, h: (k, v, _replaced(h, "ce_id", b"not-a-uuid")), id="ce_id-not-a-uuid"
        ),
        pytest.param(
            lambda k, v, h: (k, v, _replaced(h, "ce_time", b"yesterday")), id="ce_time-garbage"
        ),
        pytest.param(
            lambda k, v, h: (k, v, _replaced(h, "ce_time", b"2024-06-18T14:41:07")),
            id="ce_time-naive",
        ),
        pytest.param(
            lambda k, v, h: (k, v, _replaced(h, "ce_type", b"\xff\xfe")), id="header-not-utf8"
        ),
        pytest.param(lambda k, v, h: (k, v, _replaced(h, "ce_type", b"")), id="ce_type-empty"),
        pytest.param(
            lambda k, v, h: (k, v, _replaced(h, "ce_specversion", b"0.3")), id="specversion-0.3"
        ),
        pytest.param(
            lambda k, v, h: (k, v, _replaced(h, "content-type", b"text/plain")),
            id="content-type-not-json",
        ),
        pytest.param(lambda k, v, h: (k, b'{"n": 1', h), id="json-cut-short"),
        # Past orjson's depth and the standard library's recursion limit alike.
        pytest.param(lambda k, v, h: (k, b"[" * 2000 + b"]" * 2000, h), id="arrays-2000-deep"),
        pytest.param(
            lambda k, v, h: (k, b'{"a":' * 1500 + b"1" + b"}" * 1500, h), id="objects-1500-deep"
        ),
    ],
)
def test_from_kafka_raises_malformed_event_on_garbage(sample_type: EventType, damage) -> None:
    key, value, headers = damage(*_valid_message(sample_type))
    with pytest.raises(MalformedEvent):
        from_kafka(key, value, headers)


def test_malformed_event_is_a_value_error() -> None:
    assert issubclass(MalformedEvent, ValueError)


@pytest.mark.parametrize("header", ["ce_id", "ce_time"])
def test_from_kafka_refuses_a_message_without_a_required_header(sample_type, header):
    key, value, headers = to_kafka(
        new_event(sample_type, Sample(n=1), subject="o", source="/x", time=T0)
    )
    with pytest.raises(MalformedEvent, match=header):
        from_kafka(key, value, [(k, v) for k, v in headers if k != header])


def test_from_kafka_reads_header_names_in_any_case_and_what_the_stdlib_writes(
    sample_type: EventType,
) -> None:
    """As the binding maps them: names are case-insensitive; data is read as json.dumps
    writes it, NaN included (orjson refuses it)."""
    key, _, headers = _valid_message(sample_type)
    shouted = [(name.upper(), raw) for name, raw in headers]
    back = from_kafka(key, b'{"n": 1, "ratio": NaN}', shouted)
    assert back.type == sample_type.ce_type
    assert back.time == T0
    assert back.data["n"] == 1
    assert math.isnan(back.data["ratio"])


# --- the cloudevents package's Kafka binding as the oracle -----------------------------------


@pytest.mark.parametrize("offset_h", [0, 8])
def test_what_we_write_the_cloudevents_binding_reads_the_same(
    sample_type: EventType, offset_h: int
) -> None:
    moment = T0.astimezone(timezone(timedelta(hours=offset_h)))
    event = new_event(sample_type, Sample(n=7), subject="order-7", source="/x/unit", time=moment)
    key, value, headers = to_kafka(event)
    read = from_binary(KafkaMessage(headers=dict(headers), key=key, value=value), JSONFormat())
    assert read.get_attributes() == {
        "specversion": "1.0",
        "id": str(event.id),
        "type": sample_type.ce_type,
        "source": "/x/unit",
        "subject": "order-7",
        "time": moment,
        "dataschema": sample_type.dataschema,
        "datacontenttype": "application/json",
        "partitionkey": "order-7",  # the binding's name for the key it was given
    }
    assert read.get_data() == {"n": 7, "label": "龙井"}


def test_what_the_cloudevents_binding_writes_we_read_the_same(sample_type: EventType) -> None:
    event = new_event(sample_type, Sample(n=8), subject="order-8", source="/lvyue/unit", time=T0)
    written = to_binary(
        CloudEvent(
            attributes={
                "id": str(event.id), "type": event.type, "source": event.source,
                "subject": event.subject, "time": event.time, "dataschema": event.dataschema,
                "datacontenttype": "application/json",
            },
            data=event.data,
        ),
        JSONFormat(),
        key_mapper=lambda e: e.get_subject(),
    )  # fmt: skip
    key = written.key.encode() if isinstance(written.key, str) else written.key
    assert from_kafka(key, written.value, list(written.headers.items())) == event
