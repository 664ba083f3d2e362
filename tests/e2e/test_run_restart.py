"""`lvyue run` stopped and started again: the embedded broker starts empty, nothing is lost, and
what every consumer had already processed is not published again (the in-flight case, published
again once, is tests/integration/common/test_outbox_replay.py and the chaos test)."""

from __future__ import annotations

import signal
from pathlib import Path

from lvyue.cli.embedded import free_port, free_port_block
from lvyue.cli.services import PORT_BLOCK
from lvyue.common.settings import DEV_TOKENS, DEV_WEBHOOK_SECRET
from tests.support.kafka import read_topic
from tests.support.polling import eventually
from tests.support.processes import http, start_lvyue_run, stop, wait_http
from tests.support.webhooks import shopify_headers, shopify_sample

DECIDED = {"reviewed", "abnormal"}
OPS = {"Authorization": f"Bearer {DEV_TOKENS['ops'][0]}"}


async def test_stop_and_start_keeps_accepted_orders_and_replays_no_history(tmp_path: Path) -> None:
    state, broker_port = tmp_path / "state", free_port()
    port = free_port_block(PORT_BLOCK)
    bootstrap = f"127.0.0.1:{broker_port}"
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "run.log"
    body = shopify_sample()

    first = start_lvyue_run(state, broker_port, port, log)
    try:
        wait_http(f"{base}/readyz", process=first)
        response = await http(
            "POST",
            f"{base}/webhooks/shopify/orders",
            content=body,
            headers=shopify_headers(body, DEV_WEBHOOK_SECRET),
        )
        assert response.status_code == 201, response.text
        order_id = response.json()["order_id"]
        before = await read_topic(bootstrap, "order.created", expect=1)
        assert [r.key for r in before] == [order_id.encode()]
        # decided = both consumers of order.created are done with it (review decides on
        # inventory's outcome; the sample has no stock here), so nothing of it is replayed
        await eventually(
            lambda: http("GET", f"{base}/orders/{order_id}", headers=OPS),
            lambda r: r.json().get("status") in DECIDED,
            timeout_s=30,
        )
    finally:
        assert stop(first, signal.SIGINT, timeout_s=60) == 0, log.read_text()[-3000:]
    assert "outbox_drained" in log.read_text()

    second = start_lvyue_run(state, broker_port, port, log)
    try:
        wait_http(f"{base}/readyz", process=second)
        after = await read_topic(bootstrap, "order.created", expect=1, timeout_s=5)
        view = await http("GET", f"{base}/orders/{order_id}", headers=OPS)
    finally:
        assert stop(second, signal.SIGINT, timeout_s=60) == 0, log.read_text()[-3000:]
    # the new broker started empty, and history is not published into it again
    assert after == []
    assert view.status_code == 200
    assert view.json()["status"] in DECIDED
    assert view.json()["order"]["platform_order_id"] == "820982911946154508"
