"""A service process killed between the order commit and the publish loses nothing."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from lvyue.cli.embedded import EmbeddedBroker, free_port
from tests.conftest import WEBHOOK_SECRET
from tests.support.kafka import read_topic
from tests.support.processes import http, service_process, stop
from tests.support.webhooks import shopify_headers, shopify_sample


def _env(database_url: str, broker: EmbeddedBroker, prefix: str, port: int) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "LVYUE_ENV": "test",
        "LVYUE_KAFKA_IDEMPOTENT_PRODUCER": "false",
        "LVYUE_TOPIC_PREFIX": prefix,
        "LVYUE_TOPIC_PARTITIONS": "2",
        "LVYUE_HTTP_PORT": str(port),
        "LVYUE_WEBHOOK_SECRETS": json.dumps({"shopify": {"*": WEBHOOK_SECRET}}),
    }


async def test_relay_killed_after_commit_publishes_the_event_once_after_restart(
    order_review_db: str, broker: EmbeddedBroker, topic_prefix: str, tmp_path: Path
) -> None:
    port = free_port()
    env = _env(order_review_db, broker, topic_prefix, port)
    topic = topic_prefix + "order.created"
    body = shopify_sample()
    # The process dies after the commit and before its relay published: the relay is held off
    # (LVYUE_OUTBOX_ENABLED=false) so the kill lands in exactly that window, every run.
    held = {**env, "LVYUE_OUTBOX_ENABLED": "false"}
    with service_process("lvyue.order_review", held, port=port, log=tmp_path / "1.log") as proc:
        response = await http(
            "POST",
            f"http://127.0.0.1:{port}/webhooks/shopify/orders",
            content=body,
            headers=shopify_headers(body, WEBHOOK_SECRET),
        )
        assert response.status_code == 201, response.text
        stop(proc, signal.SIGKILL)
    assert await read_topic(broker.bootstrap_servers, topic, expect=1, timeout_s=2) == []
    order_id = response.json()["order_id"]

    with service_process("lvyue.order_review", env, port=port, log=tmp_path / "2.log"):
        records = await read_topic(broker.bootstrap_servers, topic, expect=1, settle_s=2.0)
    keys = [r.key for r in records]
    assert keys == [order_id.encode()]
