"""A drill on a simulated clock: `lvyue run --clock-start ... --clock-speed 60` runs every
service on one clock, so the 16:00 cut-off passes a minute of real time after 15:59 and the
breaches it causes are counted exactly."""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from lvyue.cli.embedded import free_port, free_port_block
from lvyue.cli.runtime import DEV_TOKENS, DEV_WEBHOOK_SECRET
from lvyue.cli.services import PORT_BLOCK, process_ports
from tests.support.polling import eventually
from tests.support.processes import http, start_lvyue_run, stop, wait_http
from tests.support.webhooks import canonical_sample, lvyue_headers

OPS = {"Authorization": f"Bearer {DEV_TOKENS['ops'][0]}"}
WAREHOUSE_STAFF = {"Authorization": f"Bearer {DEV_TOKENS['warehouse'][0]}"}
CST = timezone(timedelta(hours=8))
START = datetime(2026, 11, 19, 15, 30, tzinfo=CST)  # a Thursday, a working day
SPEED = 60.0  # a simulated minute per real second
STARTUP_S = 45.0  # the simulated clock reads START this long after the test starts lvyue


class Drill:
    def __init__(self, base_port: int, anchor: datetime, process: Any, log: Path) -> None:
        self.base_port, self.anchor, self.process, self.log = base_port, anchor, process, log

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{process_ports(self.base_port)[name]}"

    def now(self) -> datetime:
        """The drill's time, as every service reads it."""
        return START + (datetime.now(UTC) - self.anchor) * SPEED

    async def sleep_until(self, moment: datetime) -> None:
        await asyncio.sleep(max(0.0, (moment - self.now()).total_seconds() / SPEED))


@pytest.fixture
def drill(tmp_path: Path) -> Iterator[Drill]:
    base, log = free_port_block(PORT_BLOCK), tmp_path / "run.log"
    anchor = datetime.now(UTC) + timedelta(seconds=STARTUP_S)
    process = start_lvyue_run(
        tmp_path / "state", free_port(), base, log,
        "--clock-start", START.isoformat(), "--clock-speed", str(SPEED),
        "--clock-anchor", anchor.isoformat(),
    )  # fmt: skip
    run = Drill(base, anchor, process, log)
    try:
        for name in process_ports(base):
            wait_http(f"{run.url(name)}/readyz", process=process, timeout_s=90)
        yield run
    finally:
        assert stop(process, signal.SIGINT, timeout_s=60) == 0, log.read_text()[-3000:]


def _breached(metrics: str, sla: str) -> float:
    prefix = f'lvyue_sla_deadlines_breached_total{{sla="{sla}"}} '
    lines = [line for line in metrics.splitlines() if line.startswith(prefix)]
    return float(lines[0].removeprefix(prefix)) if lines else 0.0


async def test_the_cutoff_passes_on_the_drill_clock_and_exactly_the_late_shipments_breach(
    drill: Drill,
) -> None:
    assert drill.now() < START + timedelta(minutes=10), "the system took too long to start"
    inventory, fulfilment = drill.url("inventory"), drill.url("fulfilment")
    for sku in ("TEA-LJ-250G", "CUP-GLASS-01"):
        await http("PUT", f"{inventory}/skus/WH-SH-01/{sku}", json={"name": sku}, headers=OPS)
        receipt = {"warehouse_id": "WH-SH-01", "sku": sku, "quantity": 50,
                   "reference": f"PO-{uuid.uuid4().hex[:8]}"}  # fmt: skip
        response = await http("POST", f"{inventory}/stock/receipts", json=receipt, headers=OPS)
        assert response.status_code == 201, response.text
    await drill.sleep_until(START)
    order_ids = []
    for _ in range(4):
        data = canonical_sample()
        data.update(remarks="", platform_order_id=uuid.uuid4().hex,
                    paid_at=(drill.now() - timedelta(minutes=1)).isoformat())  # fmt: skip
        body = json.dumps(data).encode()
        response = await http(
            "POST", f"{drill.url('order-review')}/webhooks/lvyue/orders", content=body,
            headers=lvyue_headers(body, DEV_WEBHOOK_SECRET),
        )  # fmt: skip
        assert response.status_code == 201, response.text
        order_ids.append(response.json()["order_id"])
        view = await http("GET", f"{drill.url('order-review')}/orders/{order_ids[-1]}",
                          headers=OPS)  # fmt: skip
        received_at = datetime.fromisoformat(view.json()["received_at"])
        assert abs(received_at - drill.now()) < timedelta(minutes=2)  # the drill's time

    async def shipment_of(order_id: str) -> list[dict[str, Any]]:
        page = await http("GET", f"{fulfilment}/shipments", params={"order_id": order_id},
                          headers=OPS)  # fmt: skip
        items: list[dict[str, Any]] = page.json()["items"]
        return items

    shipments = []
    for order_id in order_ids:

        async def probe(order_id: str = order_id) -> list[dict[str, Any]]:
            return await shipment_of(order_id)

        [shipment] = await eventually(probe, lambda s: len(s) == 1, timeout_s=60)
        shipments.append(shipment)
    assert drill.now() < START + timedelta(minutes=25), "too slow to dispatch before 16:00"
    for shipment in shipments[:2]:  # two leave before the cut-off
        confirmation = {"carrier_code": "SF", "dispatched_at": drill.now().isoformat(),
                        "tracking_number": f"SF{uuid.uuid4().int % 10**12:012d}"}  # fmt: skip
        dispatched = await http("POST", f"{fulfilment}/shipments/{shipment['id']}/dispatch",
                                json=confirmation, headers=WAREHOUSE_STAFF)  # fmt: skip
        assert dispatched.status_code == 200, dispatched.text
    before_cutoff = (await http("GET", f"{fulfilment}/metrics")).text
    assert _breached(before_cutoff, "dispatch_1600") == 0.0

    await drill.sleep_until(datetime(2026, 11, 19, 16, 2, tzinfo=CST))  # past 16:00 and a scan

    async def breaches() -> float:
        return _breached((await http("GET", f"{fulfilment}/metrics")).text, "dispatch_1600")

    assert await eventually(breaches, lambda n: n >= 2.0, timeout_s=20) == 2.0
    await drill.sleep_until(datetime(2026, 11, 19, 16, 8, tzinfo=CST))  # and stays exact
    assert await breaches() == 2.0
