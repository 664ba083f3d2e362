"""A newcomer's `make run` + `lvyue demo`: `lvyue run --prometheus` evaluates the project's
rules on the local processes; after the demo no alert is firing, and every tracking sync of
the demo's dispatches reached the dev sandbox platform (`synced`)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from lvyue.cli.embedded import free_port, free_port_block
from lvyue.cli.services import PORT_BLOCK
from lvyue.cli.sidecars import alerts
from lvyue.common.settings import DEV_TOKENS
from tests.support.processes import http, start_lvyue_run, stop, wait_http

OPS = {"Authorization": f"Bearer {DEV_TOKENS['ops'][0]}"}
EVALUATIONS_S = 12.0  # two-plus 5 s evaluation intervals after the demo

pytestmark = pytest.mark.skipif(
    shutil.which("prometheus") is None, reason="prometheus binary missing (make tools)"
)


def _describe(found: list[dict[str, Any]]) -> str:
    return ", ".join(
        f"{a['labels'].get('alertname')}{{{a['labels']}}} {a['state']} value={a.get('value')}"
        for a in found
    )


async def test_demo_fires_no_alert_and_syncs_tracking(tmp_path: Path) -> None:
    port = free_port_block(PORT_BLOCK)
    prom_port = free_port()
    prometheus = f"http://127.0.0.1:{prom_port}"
    review, fulfilment = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 2}"
    log = tmp_path / "run.log"
    run = start_lvyue_run(
        tmp_path / "state", free_port(), port, log, "--prometheus", "--prometheus-port",
        str(prom_port),
    )  # fmt: skip
    try:
        for n in range(4):
            wait_http(f"http://127.0.0.1:{port + n}/readyz", process=run)
        wait_http(f"{prometheus}/-/ready", process=run)
        demo = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "lvyue.cli", "demo", "--orders", "12", "--duration", "40",
             "--base-port", str(port), "--seed", "7"],
            capture_output=True, text=True, timeout=90, env={**os.environ, "COLUMNS": "160"},
        )  # fmt: skip
        assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
        assert "sandbox platform" in log.read_text(), log.read_text()[-3000:]

        # The summary counts what the demo did: contacts it recorded are in the queue's
        # entries, or on the orders whose finding it accepted (they left the queue, reviewed).
        summary = re.search(
            r"(\d+) in the abnormal queue \((\d+) buyers contacted, (\d+) left uncontacted, "
            r"(\d+) address corrected, (\d+) findings accepted\)",
            " ".join(demo.stdout.split()),
        )
        assert summary, demo.stdout[-3000:]
        seen, contacted, left, corrected, accepted = map(int, summary.groups())
        queue = (await http("GET", f"{review}/abnormal-orders", headers=OPS)).json()["items"]
        assert contacted == sum(e["contacts"] > 0 for e in queue) + accepted, (summary[0], queue)
        assert contacted + left + corrected <= seen, summary[0]

        # Every dispatch's tracking number reached the sandbox platform.
        shipped = await http(
            "GET", f"{fulfilment}/shipments", params={"status": "dispatched"}, headers=OPS
        )
        # An exchange's replacement is reported through the platform's after-sale APIs: no sync.
        dispatched = {s["id"] for s in shipped.json()["items"] if s["aftersale_id"] is None}
        assert dispatched, demo.stdout[-3000:]
        deadline = time.monotonic() + 20
        while True:
            page = await http("GET", f"{fulfilment}/tracking-syncs", headers=OPS)
            syncs = {s["shipment_id"]: s for s in page.json()["items"]}
            states = {sid: syncs.get(sid, {}).get("state") for sid in dispatched}
            if all(state == "synced" for state in states.values()):
                break
            assert time.monotonic() < deadline, [
                (sid, state, syncs.get(sid)) for sid, state in states.items() if state != "synced"
            ]
            await asyncio.sleep(0.5)

        # Prometheus saw every process up and, evaluations later, nothing is firing.
        await asyncio.sleep(EVALUATIONS_S)
        up = await http("GET", f"{prometheus}/api/v1/query", params={"query": "up"})
        results = up.json()["data"]["result"]
        targets = {r["metric"]["instance"]: r["value"][1] for r in results}
        # order-review's two processes, the three other services, the console, Prometheus
        assert len(targets) == 7, targets
        assert {r["metric"]["job"] for r in results} == {
            "order-review", "inventory", "fulfilment", "aftersales", "console", "prometheus",
        }, results  # fmt: skip
        assert set(targets.values()) == {"1"}, targets
        active = await asyncio.to_thread(alerts, prometheus)
        firing = [a for a in active if a["state"] == "firing"]
        pending = [a for a in active if a["state"] == "pending"]
        print(f"pending after the demo: {_describe(pending) or 'none'}")
        assert not firing, f"firing after the demo: {_describe(firing)}"
        assert (await http("GET", f"{review}/readyz")).status_code == 200
    finally:
        assert stop(run, signal.SIGINT, timeout_s=60) == 0, log.read_text()[-3000:]
