"""`lvyue run --replicas 2`: two of each process; webhooks spread over the API replicas through
the shared port, the consumers of a service share the partitions, and every order still comes
out of the pipeline exactly once."""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from lvyue.cli.embedded import free_port, free_port_block
from lvyue.cli.services import api_url, ports_used, process_urls
from lvyue.common.events.catalog import SHIPMENT_REQUESTED
from lvyue.common.settings import DEV_TOKENS, DEV_WEBHOOK_SECRET
from tests.support.kafka import read_topic
from tests.support.polling import eventually
from tests.support.processes import http, start_lvyue_run, stop, wait_http
from tests.support.webhooks import canonical_sample, lvyue_headers

ORDERS = 60
OPS = {"Authorization": f"Bearer {DEV_TOKENS['ops'][0]}"}


def _counted(text: str, name: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    )


def _order() -> bytes:
    data = canonical_sample()
    data.update(
        remarks="", platform_order_id=uuid.uuid4().hex, paid_at=datetime.now(UTC).isoformat()
    )
    return json.dumps(data).encode()


async def _stock(inventory: str) -> None:
    """Enough of every SKU the sample orders for all of them, in its warehouse."""
    warehouse = "WH-SH-01"
    for sku in {line["sku"] for line in canonical_sample()["lines"]}:
        put = await http(
            "PUT", f"{inventory}/skus/{warehouse}/{sku}", json={"name": sku}, headers=OPS
        )
        assert put.status_code in (200, 201), put.text
        receipt = {"warehouse_id": warehouse, "sku": sku, "quantity": 100 * ORDERS,
                   "reference": f"PO-{uuid.uuid4().hex[:8]}"}  # fmt: skip
        response = await http("POST", f"{inventory}/stock/receipts", json=receipt, headers=OPS)
        assert response.status_code == 201, response.text


async def _post_all(url: str) -> list[int]:
    limits = httpx.Limits(max_connections=16)  # many connections: the kernel spreads them
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:

        async def post(body: bytes) -> int:
            headers = lvyue_headers(body, DEV_WEBHOOK_SECRET)
            response = await client.post("/webhooks/lvyue/orders", content=body, headers=headers)
            return response.status_code

        return list(await asyncio.gather(*(post(_order()) for _ in range(ORDERS))))


async def _partitions(processes: dict[str, str]) -> dict[str, int]:
    """Partitions per consuming process, from /readyz (processes without a consumer left out)."""
    async with httpx.AsyncClient(timeout=10) as client:
        ready = {
            name: (await client.get(f"{url}/readyz")).json() for name, url in processes.items()
        }
    return {n: r["consumer_partitions"] for n, r in ready.items() if "consumer_partitions" in r}


async def test_two_replicas_share_the_work_and_each_order_ships_once(tmp_path: Path) -> None:
    base, broker = free_port_block(ports_used(2)), free_port()
    log = tmp_path / "run.log"
    run = start_lvyue_run(tmp_path / "state", broker, base, log, "--replicas", "2")
    try:
        processes = process_urls("127.0.0.1", base, 2)
        for url in processes.values():
            wait_http(f"{url}/readyz", process=run, timeout_s=120)
        # HTTP is served while consumers join their groups: wait until every consumer has
        # its share of partitions, or a late joiner may find the work already done.
        await eventually(lambda: _partitions(processes), lambda p: all(p.values()), timeout_s=60)
        await _stock(api_url("127.0.0.1", base, "inventory"))
        assert await _post_all(api_url("127.0.0.1", base, "order-review")) == [201] * ORDERS
        shipped = await read_topic(
            f"127.0.0.1:{broker}", SHIPMENT_REQUESTED.topic, expect=ORDERS, timeout_s=90
        )
        async with httpx.AsyncClient(timeout=10) as client:
            metrics = {n: (await client.get(f"{u}/metrics")).text for n, u in processes.items()}
    finally:
        assert stop(run, signal.SIGINT, timeout_s=60) == 0, log.read_text()[-3000:]
    keys = [record.key for record in shipped]
    assert len(keys) == ORDERS
    assert len(set(keys)) == ORDERS  # every order once
    accepted = {
        name: _counted(metrics[name], "lvyue_intake_webhooks_total")
        for name in ("order-review", "order-review #2")
    }
    assert sum(accepted.values()) == ORDERS
    assert all(count > 0 for count in accepted.values()), accepted  # both API replicas served
    consumed = {
        name: _counted(metrics[name], "lvyue_consumer_messages_total")
        for name in ("inventory", "inventory #2", "fulfilment", "fulfilment #2")
    }
    assert all(count > 0 for count in consumed.values()), consumed  # partitions shared
