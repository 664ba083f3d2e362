"""A drill on a simulated clock: `lvyue run --clock-start ... --clock-speed 60` runs every
service on one clock, so the 16:00 cut-off passes a minute of real time after 15:59 and the
breaches it causes are counted exactly; a second drill, faster, runs across a midnight."""

from __future__ import annotations

import asyncio
import functools
import signal
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from lvyue.cli.embedded import free_port, free_port_block
from lvyue.cli.services import PORT_BLOCK, process_ports
from lvyue.common.settings import DEV_TOKENS, DEV_WEBHOOK_SECRET
from tests.support.polling import eventually
from tests.support.processes import http, post_order, start_lvyue_run, stop, wait_http
from tests.support.webhooks import canonical_sample

OPS = {"Authorization": f"Bearer {DEV_TOKENS['ops'][0]}"}
WAREHOUSE_STAFF = {"Authorization": f"Bearer {DEV_TOKENS['warehouse'][0]}"}
CST = timezone(timedelta(hours=8))
START = datetime(2026, 11, 19, 15, 30, tzinfo=CST)  # a Thursday, a working day
SPEED = 60.0  # a simulated minute per real second
NIGHT = datetime(2026, 11, 19, 23, 30, tzinfo=CST)  # the same Thursday, before midnight
NIGHT_SPEED = 240.0  # four simulated minutes per real second
# order-review's second process runs its consumers and its deadline scanner: breaches count there
SCANNER = "order-review consumers"
STARTUP_S = 30.0  # the simulated clock reads its start this long after the test starts lvyue
# (lvyue run is ready in about 12 s on a loaded machine; each test asserts it started in time)


class Drill:
    def __init__(
        self, base_port: int, anchor: datetime, process: Any, log: Path,
        start: datetime = START, speed: float = SPEED,
    ) -> None:  # fmt: skip
        self.base_port, self.anchor, self.process, self.log = base_port, anchor, process, log
        self.start, self.speed = start, speed

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{process_ports(self.base_port)[name]}"

    def now(self) -> datetime:
        """The drill's time, as every service reads it."""
        return self.start + (datetime.now(UTC) - self.anchor) * self.speed

    async def sleep_until(self, moment: datetime) -> None:
        await asyncio.sleep(max(0.0, (moment - self.now()).total_seconds() / self.speed))

    async def stock(self, *skus: str) -> None:
        for sku in skus:
            inventory = self.url("inventory")
            await http("PUT", f"{inventory}/skus/WH-SH-01/{sku}", json={"name": sku}, headers=OPS)
            receipt = {"warehouse_id": "WH-SH-01", "sku": sku, "quantity": 50,
                       "reference": f"PO-{uuid.uuid4().hex[:8]}"}  # fmt: skip
            response = await http("POST", f"{inventory}/stock/receipts", json=receipt, headers=OPS)
            assert response.status_code == 201, response.text

    async def order(self, **changes: Any) -> str:
        """A canonical order paid a simulated minute ago; its id."""
        data = canonical_sample()
        data.update(platform_order_id=uuid.uuid4().hex,
                    paid_at=(self.now() - timedelta(minutes=1)).isoformat(), **changes)  # fmt: skip
        return await post_order(self.url("order-review"), data, DEV_WEBHOOK_SECRET)

    async def shipment(self, order_id: str) -> dict[str, Any]:
        async def probe() -> list[dict[str, Any]]:
            page = await http("GET", f"{self.url('fulfilment')}/shipments",
                              params={"order_id": order_id}, headers=OPS)  # fmt: skip
            items: list[dict[str, Any]] = page.json()["items"]
            return items

        [found] = await eventually(probe, lambda s: len(s) == 1, timeout_s=60)
        return found

    async def breaches(self, service: str, sla: str) -> float:
        return _breached((await http("GET", f"{self.url(service)}/metrics")).text, sla)


def _start(tmp_path: Path, start: datetime, speed: float) -> Iterator[Drill]:
    base, log = free_port_block(PORT_BLOCK), tmp_path / "run.log"
    anchor = datetime.now(UTC) + timedelta(seconds=STARTUP_S)
    process = start_lvyue_run(
        tmp_path / "state", free_port(), base, log,
        "--clock-start", start.isoformat(), "--clock-speed", str(speed),
        "--clock-anchor", anchor.isoformat(),
    )  # fmt: skip
    run = Drill(base, anchor, process, log, start, speed)
    try:
        for name in process_ports(base):
            wait_http(f"{run.url(name)}/readyz", process=process, timeout_s=90)
        yield run
    finally:
        assert stop(process, signal.SIGINT, timeout_s=60) == 0, log.read_text()[-3000:]


@pytest.fixture
def drill(tmp_path: Path) -> Iterator[Drill]:
    yield from _start(tmp_path, START, SPEED)


@pytest.fixture
def night_drill(tmp_path: Path) -> Iterator[Drill]:
    yield from _start(tmp_path, NIGHT, NIGHT_SPEED)


def _breached(metrics: str, sla: str) -> float:
    prefix = f'lvyue_sla_deadlines_breached_total{{sla="{sla}"}} '
    lines = [line for line in metrics.splitlines() if line.startswith(prefix)]
    return float(lines[0].removeprefix(prefix)) if lines else 0.0


async def test_the_cutoff_passes_on_the_drill_clock_and_exactly_the_late_shipments_breach(
    drill: Drill,
) -> None:
    assert drill.now() < START + timedelta(minutes=10), "the system took too long to start"
    await drill.stock("TEA-LJ-250G", "CUP-GLASS-01")
    await drill.sleep_until(START)
    order_ids = []
    for _ in range(4):
        order_ids.append(await drill.order(remarks=""))
        view = await http("GET", f"{drill.url('order-review')}/orders/{order_ids[-1]}",
                          headers=OPS)  # fmt: skip
        received_at = datetime.fromisoformat(view.json()["received_at"])
        assert abs(received_at - drill.now()) < timedelta(minutes=2)  # the drill's time

    shipments = [await drill.shipment(order_id) for order_id in order_ids]
    assert drill.now() < START + timedelta(minutes=25), "too slow to dispatch before 16:00"
    fulfilment = drill.url("fulfilment")
    for shipment in shipments[:2]:  # two leave before the cut-off
        confirmation = {"carrier_code": "SF", "dispatched_at": drill.now().isoformat(),
                        "tracking_number": f"SF{uuid.uuid4().int % 10**12:012d}"}  # fmt: skip
        dispatched = await http("POST", f"{fulfilment}/shipments/{shipment['id']}/dispatch",
                                json=confirmation, headers=WAREHOUSE_STAFF)  # fmt: skip
        assert dispatched.status_code == 200, dispatched.text
    assert await drill.breaches("fulfilment", "dispatch_1600") == 0.0

    await drill.sleep_until(datetime(2026, 11, 19, 16, 2, tzinfo=CST))  # past 16:00 and a scan
    breaches = functools.partial(drill.breaches, "fulfilment", "dispatch_1600")
    assert await eventually(breaches, lambda n: n >= 2.0, timeout_s=20) == 2.0
    await drill.sleep_until(datetime(2026, 11, 19, 16, 8, tzinfo=CST))  # and stays exact
    assert await breaches() == 2.0


async def test_across_midnight_due_times_follow_the_day_and_only_the_unanswered_order_breaches(
    night_drill: Drill,
) -> None:
    drill = night_drill
    assert drill.now() < NIGHT + timedelta(minutes=20), "the system took too long to start"
    await drill.stock("TEA-LJ-250G", "CUP-GLASS-01")
    await drill.sleep_until(NIGHT)
    thursday = await drill.order(remarks="")  # ready after Thursday's cut-off
    abnormal = await drill.order()  # the sample's remark needs a human: flagged, not contacted
    late_night = await drill.shipment(thursday)
    # ready after 16:00 on Thursday: due at Friday's cut-off, the next working day
    assert datetime.fromisoformat(late_night["due_at"]) == datetime(2026, 11, 20, 16, tzinfo=CST)

    async def queue() -> list[dict[str, Any]]:
        page = await http("GET", f"{drill.url('order-review')}/abnormal-orders", headers=OPS)
        items: list[dict[str, Any]] = page.json()["items"]
        return items

    [flagged] = await eventually(queue, lambda q: len(q) == 1, timeout_s=30)
    assert flagged["order_id"] == abnormal
    contact_due = datetime.fromisoformat(flagged["contact_due_at"])
    assert contact_due.astimezone(CST).date() == datetime(2026, 11, 20).date()  # after midnight

    await drill.sleep_until(datetime(2026, 11, 20, 0, 10, tzinfo=CST))
    friday = await drill.shipment(await drill.order(remarks=""))
    # ready early on Friday: due at Friday's cut-off, the same day
    assert datetime.fromisoformat(friday["due_at"]) == datetime(2026, 11, 20, 16, tzinfo=CST)
    assert await drill.breaches(SCANNER, "abnormal_contact_2h") == 0.0

    await drill.sleep_until(contact_due + timedelta(minutes=8))  # two scans past it
    assert (
        await eventually(
            functools.partial(drill.breaches, SCANNER, "abnormal_contact_2h"),
            lambda n: n >= 1.0,
            timeout_s=20,
        )
        == 1.0
    )
    await drill.sleep_until(contact_due + timedelta(minutes=30))  # and stays exact
    assert await drill.breaches(SCANNER, "abnormal_contact_2h") == 1.0
    assert await drill.breaches(SCANNER, "review_by_0900") == 0.0  # all reviewed at once
    assert await drill.breaches("fulfilment", "dispatch_1600") == 0.0
    assert await drill.breaches("fulfilment", "outbound_24h") == 0.0
