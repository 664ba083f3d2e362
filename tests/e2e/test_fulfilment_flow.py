"""Fulfilment as a process (`python -m lvyue.fulfilment`) on the session broker and database:
order.reviewed -> shipment.requested -> dispatch confirmed over HTTP -> order.shipped."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from lvyue.cli.embedded import EmbeddedBroker, free_port
from lvyue.common.events.catalog import OrderShipped, Priority, ShipmentRequested
from lvyue.common.events.codec import from_kafka
from lvyue.common.kafka import make_producer
from tests.support.fulfilment import WAREHOUSE, order_reviewed
from tests.support.inventory import API_TOKENS, OPS, WAREHOUSE_STAFF, publish
from tests.support.kafka import read_topic
from tests.support.processes import http, service_process


def _env(database_url: str, broker: EmbeddedBroker, prefix: str, port: int) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "LVYUE_ENV": "test",
        "LVYUE_KAFKA_IDEMPOTENT_PRODUCER": "false",
        "LVYUE_TOPIC_PREFIX": prefix,
        "LVYUE_TOPIC_PARTITIONS": "2",
        "LVYUE_HTTP_PORT": str(port),
        "LVYUE_API_TOKENS": json.dumps(API_TOKENS),
        "LVYUE_WAREHOUSES": json.dumps({WAREHOUSE: {"cutoff": "16:00"}}),
        "LVYUE_CONSUMER_SESSION_TIMEOUT_MS": "2000",
        "LVYUE_LOG_LEVEL": "WARNING",
    }


async def _dispatches(base: str) -> dict[str, float]:
    response = await http("GET", f"{base}/metrics")
    return {
        sample.labels["on_time"]: sample.value
        for family in text_string_to_metric_families(response.text)
        if family.name == "lvyue_fulfilment_dispatches"
        for sample in family.samples
        if sample.name.endswith("_total") and sample.labels.get("warehouse") == WAREHOUSE
    }


async def test_a_reviewed_order_is_requested_dispatched_and_shipped_by_the_process(
    fulfilment_db: str, broker: EmbeddedBroker, topic_prefix: str, tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    bootstrap = broker.bootstrap_servers
    order_id = uuid.uuid4()
    env = _env(fulfilment_db, broker, topic_prefix, port)
    with service_process("lvyue.fulfilment", env, port=port, log=tmp_path / "fulfilment.log"):
        producer = make_producer(bootstrap, idempotent=False)
        await producer.start()
        try:
            reviewed_at = datetime.now(UTC)
            await publish(
                producer,
                topic_prefix,
                order_reviewed(order_id, reviewed_at=reviewed_at, priority=Priority.PROMOTION),
            )
        finally:
            await producer.stop()

        [record] = await read_topic(
            bootstrap, topic_prefix + "shipment.requested", expect=1, timeout_s=60
        )
        assert record.key == str(order_id).encode()
        requested = from_kafka(record.key, record.value, record.headers).payload(ShipmentRequested)
        assert (requested.order_id, requested.priority) == (order_id, Priority.PROMOTION)
        assert min(requested.due_at, requested.outbound_due_at) > reviewed_at

        pick_list = await http(
            "GET", f"{base}/shipments", params={"status": "pending"}, headers=WAREHOUSE_STAFF
        )
        assert pick_list.status_code == 200, pick_list.text
        assert [s["id"] for s in pick_list.json()["items"]] == [str(requested.shipment_id)]

        body = {
            "carrier_code": "SF",
            "tracking_number": "SF000111222",
            "dispatched_at": datetime.now(UTC).isoformat(),
        }
        url = f"{base}/shipments/{requested.shipment_id}/dispatch"
        first = await http("POST", url, json=body, headers=WAREHOUSE_STAFF)
        again = await http("POST", url, json=body, headers=WAREHOUSE_STAFF)
        assert (first.status_code, again.status_code) == (200, 200), first.text
        assert first.json()["on_time"] is True

        shipped = await read_topic(
            bootstrap, topic_prefix + "order.shipped", expect=1, timeout_s=30, settle_s=1.5
        )
        view = await http("GET", f"{base}/shipments/{requested.shipment_id}", headers=OPS)
        dispatches = await _dispatches(base)

    assert len(shipped) == 1
    sent = from_kafka(shipped[0].key, shipped[0].value, shipped[0].headers).payload(OrderShipped)
    assert (sent.order_id, sent.warehouse_id, sent.tracking_number) == (
        order_id,
        WAREHOUSE,
        "SF000111222",
    )
    assert {d["sla"]: d["state"] for d in view.json()["deadlines"]} == {
        "outbound_24h": "met",
        "dispatch_1600": "met",
        # no platform API configured: the sync is recorded as skipped and no deadline opens
    }
    assert dispatches == {"true": 1.0}
