"""`lvyue run` supervises what it started: kill -9 of a service, of PostgreSQL or of the broker,
and a service that hangs, are survived without an operator; a taken port and Ctrl-C during the
start end it cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from lvyue.cli.embedded import free_port, free_port_block
from lvyue.cli.services import PORT_BLOCK, process_ports
from lvyue.common.settings import DEV_TOKENS, DEV_WEBHOOK_SECRET
from tests.support.polling import eventually
from tests.support.processes import http, start_lvyue_run, stop, wait_http
from tests.support.webhooks import canonical_sample, lvyue_headers

OPS = {"Authorization": f"Bearer {DEV_TOKENS['ops'][0]}"}
WAREHOUSE_STAFF = {"Authorization": f"Bearer {DEV_TOKENS['warehouse'][0]}"}
WAREHOUSE = "WH-SH-01"


@dataclass
class Running:
    process: subprocess.Popen[bytes]
    state: Path
    base_port: int
    log: Path

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{process_ports(self.base_port)[name]}"

    def service_pids(self) -> dict[str, int]:
        """Each service process `lvyue run` started, by name, from its port."""
        names = {port: name for name, port in process_ports(self.base_port).items()}
        pids = {}
        for child in psutil.Process(self.process.pid).children():
            try:
                port = child.environ().get("LVYUE_HTTP_PORT")
            except psutil.Error:
                # A child that just exited: e.g. pgserver's `pg_ctl -w start`, which may
                # still be finishing while the restarted server already accepts connections.
                continue
            if port is not None and int(port) in names:
                pids[names[int(port)]] = child.pid
        return pids

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """One `lvyue run` for the kill tests: each waits until everything is ready again."""
    tmp = tmp_path_factory.mktemp("supervised")
    port, state, log = free_port_block(PORT_BLOCK), tmp / "state", tmp / "run.log"
    run = Running(start_lvyue_run(state, free_port(), port, log), state, port, log)
    try:
        _wait_all_ready(run)
        yield run
    finally:
        assert stop(run.process, signal.SIGINT, timeout_s=60) == 0, run.output()[-3000:]


def _wait_all_ready(run: Running, timeout_s: float = 90.0) -> None:
    for name in process_ports(run.base_port):
        wait_http(f"{run.url(name)}/readyz", process=run.process, timeout_s=timeout_s)


def _order() -> bytes:
    data = canonical_sample()
    data.update(
        remarks="", platform_order_id=uuid.uuid4().hex, paid_at=datetime.now(UTC).isoformat()
    )
    return json.dumps(data).encode()


def _post_order(run: Running, timeout_s: float = 1.0) -> httpx.Response:
    body = _order()
    return httpx.post(
        f"{run.url('order-review')}/webhooks/lvyue/orders",
        content=body,
        headers=lvyue_headers(body, DEV_WEBHOOK_SECRET),
        timeout=timeout_s,
    )


def _seconds_until_intake_accepts(run: Running, since: float, limit_s: float) -> float:
    """Posts orders until one is answered 201; fails when none is within `limit_s`."""
    last = "no attempt"
    while (elapsed := time.monotonic() - since) < limit_s:
        try:
            response = _post_order(run)
            if response.status_code == 201:
                return elapsed
            last = f"{response.status_code} {response.text[:200]}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.1)
    raise AssertionError(f"intake not answering 201 within {limit_s}s; last: {last}")


def _assert_only_restarted(
    run: Running, before: dict[str, int], name: str, back_after: float
) -> None:
    """`name` is a new process; every other service process is the one it was."""
    after = run.service_pids()
    assert after[name] != before[name], back_after
    assert {k: v for k, v in after.items() if k != name} == {
        k: v for k, v in before.items() if k != name
    }


async def test_the_banner_lists_every_dev_token_and_the_webhook_secret(running: Running) -> None:
    async def output() -> str:
        return running.output()

    # The banner comes once lvyue's own readiness wait is over, just after the services'.
    printed = await eventually(output, lambda out: "Ctrl-C stops everything" in out)
    banner = printed.split("lvyue is running", 1)[1]
    for role, tokens in DEV_TOKENS.items():
        assert f"{role} " in banner, role
        assert tokens[0] in banner, role
    assert DEV_WEBHOOK_SECRET in banner


def test_a_killed_service_is_restarted_alone_and_serves_again_within_5s(
    running: Running,
) -> None:
    before = running.service_pids()
    assert len(before) == len(process_ports(running.base_port)), before
    os.kill(before["order-review"], signal.SIGKILL)
    killed_at = time.monotonic()
    back_after = _seconds_until_intake_accepts(running, killed_at, limit_s=5.0)
    _assert_only_restarted(running, before, "order-review", back_after)
    assert (
        f"order-review (pid {before['order-review']}) died: killed by SIGKILL; restart #1 in"
        in running.output()
    )


def test_a_hung_service_is_killed_and_restarted_and_intake_answers_within_40s(
    running: Running,
) -> None:
    """A stopped process (SIGSTOP: as an event loop blocked for good) does not exit, so only
    its missed /livez answers tell: 3 in a row, probed every 5 s with 3 s each (the defaults),
    then the supervisor's restart."""
    _wait_all_ready(running)
    time.sleep(2.0)  # lvyue's watch asks a new process every second until it first answers
    before = running.service_pids()
    os.kill(before["order-review"], signal.SIGSTOP)
    stopped_at = time.monotonic()
    back_after = _seconds_until_intake_accepts(running, stopped_at, limit_s=40.0)
    _assert_only_restarted(running, before, "order-review", back_after)
    output = running.output()
    pid = before["order-review"]
    assert (
        f"order-review (pid {pid}) did not answer /livez 3 times in a row (each within 3s): "
        "hung, killing it" in output
    )
    assert f"order-review (pid {pid}) died: killed by SIGKILL; restart #" in output


async def test_a_killed_consumer_service_serves_within_5s_and_consumes_again_within_15s(
    running: Running,
) -> None:
    """Its predecessor's group member is evicted at start: without that, the join waited out
    the session timeout and a rebalance (about 20 s on the embedded broker)."""
    _wait_all_ready(running)
    await _stock_the_sample_skus(running)
    fulfilment = running.url("fulfilment")

    async def shipped(order_id: str, timeout_s: float) -> None:
        async def shipments() -> list[dict[str, Any]]:
            page = await http("GET", f"{fulfilment}/shipments", params={"order_id": order_id},
                              headers=OPS)  # fmt: skip
            items: list[dict[str, Any]] = page.json()["items"]
            return items

        await eventually(shipments, lambda s: len(s) == 1, timeout_s=timeout_s)

    # A first order through, so every consumer has joined its group: a member killed while
    # its first join is still pending is another case (the broker holds that join longer).
    first = _post_order(running, timeout_s=10.0)
    assert first.status_code == 201, first.text
    await shipped(first.json()["order_id"], timeout_s=40.0)
    before = running.service_pids()["inventory"]
    os.kill(before, signal.SIGKILL)
    killed_at = time.monotonic()
    response = _post_order(running, timeout_s=10.0)  # intake does not need inventory
    assert response.status_code == 201, response.text
    wait_http(f"{running.url('inventory')}/readyz", timeout_s=5.0)
    assert time.monotonic() - killed_at <= 5.0
    # Reserved by the restarted inventory, then requested by fulfilment.
    await shipped(response.json()["order_id"], timeout_s=15.0 - (time.monotonic() - killed_at))
    assert running.service_pids()["inventory"] != before
    assert "lvyue-inventory-0-" in running.output()  # the evicted member, logged


async def _stock_the_sample_skus(running: Running) -> None:
    inventory = running.url("inventory")
    for sku in ("TEA-LJ-250G", "CUP-GLASS-01"):
        await http("PUT", f"{inventory}/skus/{WAREHOUSE}/{sku}", json={"name": sku}, headers=OPS)
        receipt = {"warehouse_id": WAREHOUSE, "sku": sku, "quantity": 10,
                   "reference": f"PO-{uuid.uuid4().hex[:8]}"}  # fmt: skip
        response = await http("POST", f"{inventory}/stock/receipts", json=receipt, headers=OPS)
        assert response.status_code == 201, response.text


def test_killed_postgresql_is_restarted_on_its_data_and_intake_answers_within_15s(
    running: Running,
) -> None:
    _wait_all_ready(running)
    accepted = _post_order(running, timeout_s=10.0)
    assert accepted.status_code == 201, accepted.text
    pid_file = running.state / "pgdata" / "postmaster.pid"
    postmaster = int(pid_file.read_text().splitlines()[0])
    services = running.service_pids()
    os.kill(postmaster, signal.SIGKILL)
    killed_at = time.monotonic()
    _seconds_until_intake_accepts(running, killed_at, limit_s=15.0)
    assert int(pid_file.read_text().splitlines()[0]) != postmaster
    view = httpx.get(
        f"{running.url('order-review')}/orders/{accepted.json()['order_id']}",
        headers=OPS,
        timeout=10.0,
    )
    assert view.status_code == 200, view.text  # the same data directory, nothing lost
    assert running.service_pids() == services  # the services waited and reconnected
    assert f"PostgreSQL (pid {postmaster}) died" in running.output()


async def test_killed_broker_is_restarted_and_a_later_order_reaches_the_end(
    running: Running,
) -> None:
    _wait_all_ready(running)
    fulfilment = running.url("fulfilment")
    await _stock_the_sample_skus(running)
    [broker] = [p for p in psutil.Process(running.process.pid).children() if _is_broker(p)]
    os.kill(broker.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    # Intake commits to PostgreSQL, so it may answer before the broker is back: wait for both.
    _seconds_until_intake_accepts(running, killed_at, limit_s=15.0)
    wait_http(
        f"{running.url('order-review')}/readyz", timeout_s=15.0 - (time.monotonic() - killed_at)
    )
    # The processes that consume were started again on the new broker (their fetch positions
    # belonged to the lost one): wait for them too.
    _wait_all_ready(running, timeout_s=30.0)
    response = _post_order(running, timeout_s=10.0)
    assert response.status_code == 201, response.text
    order_id = response.json()["order_id"]

    async def shipments() -> list[dict[str, Any]]:
        page = await http("GET", f"{fulfilment}/shipments", params={"order_id": order_id},
                          headers=OPS)  # fmt: skip
        items: list[dict[str, Any]] = page.json()["items"]
        return items

    [shipment] = await eventually(shipments, lambda s: len(s) == 1, timeout_s=40)
    body = {"carrier_code": "SF", "tracking_number": "SF200000000001",
            "dispatched_at": datetime.now(UTC).isoformat()}  # fmt: skip
    dispatched = await http("POST", f"{fulfilment}/shipments/{shipment['id']}/dispatch",
                            json=body, headers=WAREHOUSE_STAFF)  # fmt: skip
    assert dispatched.status_code == 200, dispatched.text

    async def status() -> str:
        view = await http("GET", f"{running.url('order-review')}/orders/{order_id}", headers=OPS)
        state: str = view.json()["status"]
        return state

    await eventually(status, lambda s: s == "shipped", timeout_s=30)
    assert f"broker (pid {broker.pid}) died: killed by SIGKILL; restart #1" in running.output()
    assert "broker restarted: consumers started again on it" in running.output()


def test_a_port_in_use_fails_the_start_naming_the_port(tmp_path: Path) -> None:
    port = free_port_block(PORT_BLOCK)
    taken = port + 1  # inventory's
    log = tmp_path / "run.log"
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", taken))
        squatter.listen()
        run = start_lvyue_run(tmp_path / "state", free_port(), port, log)
        try:
            code = run.wait(30)
        finally:
            stop(run, signal.SIGKILL)
    output = log.read_text()
    assert code != 0, output
    assert f"port {taken} (inventory) is already in use" in output
    assert "--base-port" in output
    assert not (tmp_path / "state" / "pgdata").exists()  # checked before anything started


def _is_broker(process: psutil.Process) -> bool:
    try:
        return "tansu" in process.name().lower()
    except psutil.Error:
        return False


def _is_service(process: psutil.Process) -> bool:
    """A service process; a child that just exited (a zombie, gone) is none."""
    try:
        return "lvyue." in " ".join(process.cmdline())
    except psutil.Error:
        return False


def test_ctrl_c_during_the_readiness_wait_exits_within_2s(tmp_path: Path) -> None:
    port = free_port_block(PORT_BLOCK)
    log = tmp_path / "run.log"
    run = start_lvyue_run(tmp_path / "state", free_port(), port, log)
    try:
        deadline = time.monotonic() + 60
        services: list[psutil.Process] = []
        while len(services) < len(process_ports(port)) and time.monotonic() < deadline:
            assert run.poll() is None, log.read_text()[-3000:]
            services = [p for p in psutil.Process(run.pid).children() if _is_service(p)]
            time.sleep(0.05)
        assert "lvyue is running" not in log.read_text()  # still waiting for readiness
        run.send_signal(signal.SIGINT)
        sent_at = time.monotonic()
        try:
            run.wait(10)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running 10 s after Ctrl-C:\n{log.read_text()[-3000:]}")
        took = time.monotonic() - sent_at
    finally:
        stop(run, signal.SIGKILL)
    assert took < 2.0, log.read_text()[-3000:]
    assert all(not p.is_running() or p.status() == psutil.STATUS_ZOMBIE for p in services)
    assert "interrupted: stopping what was started" in log.read_text()
    assert not (tmp_path / "state" / "pgdata" / "postmaster.pid").exists()  # PostgreSQL stopped
