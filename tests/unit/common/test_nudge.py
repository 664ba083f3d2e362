"""The embedded broker's workarounds (nudges, the consumer's offset-gap guard, a short fetch
wait): on only where `lvyue run` embeds the broker, and a nudge is told apart from every
event."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lvyue.cli.embedded import BROKER_FETCH_MAX_WAIT_MS, EmbeddedBroker
from lvyue.cli.runtime import Infrastructure, service_env
from lvyue.cli.services import SERVICES
from lvyue.common.events import new_event
from lvyue.common.events.codec import to_kafka
from lvyue.common.nudge import NUDGE_HEADER, is_nudge
from lvyue.common.settings import KernelSettings
from tests.support.events import PING, Ping


def test_nudging_is_off_by_default_and_read_from_its_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert KernelSettings().kafka_nudge_quiet_ms == 0
    monkeypatch.setenv("LVYUE_KAFKA_NUDGE_QUIET_MS", "150")
    assert KernelSettings().kafka_nudge_quiet_ms == 150


def _env(infra: Infrastructure) -> dict[str, str]:
    return service_env(
        SERVICES[0],
        database_url="postgresql+asyncpg://u@h/db",
        infra=infra,
        host="127.0.0.1",
        port=8101,
    )


def test_lvyue_run_works_around_the_embedded_broker_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LVYUE_KAFKA_NUDGE_QUIET_MS", raising=False)
    embedded = Infrastructure("", "127.0.0.1:19092", broker=EmbeddedBroker(port=19092))
    monkeypatch.delenv("LVYUE_KAFKA_OFFSET_GAP_WAIT_MS", raising=False)
    assert _env(embedded)["LVYUE_KAFKA_NUDGE_QUIET_MS"] == "150"
    assert _env(embedded)["LVYUE_KAFKA_OFFSET_GAP_WAIT_MS"] == "5000"
    external = Infrastructure("", "kafka-1:9092")
    assert "LVYUE_KAFKA_NUDGE_QUIET_MS" not in _env(external)
    assert "LVYUE_KAFKA_OFFSET_GAP_WAIT_MS" not in _env(external)
    assert KernelSettings().kafka_offset_gap_wait_ms == 0  # off unless set
    monkeypatch.setenv("LVYUE_KAFKA_NUDGE_QUIET_MS", "400")  # an operator's choice stands
    assert _env(embedded)["LVYUE_KAFKA_NUDGE_QUIET_MS"] == "400"


def test_consumers_wait_for_records_as_kafka_does_but_on_the_embedded_broker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Kafka answers a fetch as soon as records arrive, so its default wait (500 ms) bounds only
    an idle consumer's fetches; the embedded broker holds every fetch for the whole wait, so
    `lvyue run` shortens it there (each hop's latency)."""
    monkeypatch.delenv("LVYUE_CONSUMER_FETCH_MAX_WAIT_MS", raising=False)  # the suite's own
    assert KernelSettings().consumer_fetch_max_wait_ms == 500
    embedded = Infrastructure("", "127.0.0.1:19092", broker=EmbeddedBroker(port=19092))
    assert _env(embedded)["LVYUE_CONSUMER_FETCH_MAX_WAIT_MS"] == str(BROKER_FETCH_MAX_WAIT_MS)
    assert BROKER_FETCH_MAX_WAIT_MS == 100
    assert "LVYUE_CONSUMER_FETCH_MAX_WAIT_MS" not in _env(Infrastructure("", "kafka-1:9092"))
    monkeypatch.setenv("LVYUE_CONSUMER_FETCH_MAX_WAIT_MS", "50")  # an operator's choice stands
    assert _env(embedded)["LVYUE_CONSUMER_FETCH_MAX_WAIT_MS"] == "50"


def test_a_nudge_is_no_event_and_no_event_is_a_nudge() -> None:
    envelope = new_event(PING, Ping(n=1), subject="order-1", source="/t", time=datetime.now(UTC))
    _, value, headers = to_kafka(envelope)
    assert not is_nudge(value, headers)
    assert not is_nudge(value, [*headers, (NUDGE_HEADER, b"1")])  # an event carries a value
    assert is_nudge(b"", [(NUDGE_HEADER, b"1")])
    assert is_nudge(None, ((NUDGE_HEADER, b"1"),))
    assert not is_nudge(b"", [])  # an empty record without the header is no nudge
