"""`lvyue demo` against `lvyue run`: orders flow from every platform, some are reviewed and
some abnormal, the warehouse dispatches, after-sale cases are opened."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from lvyue.cli.embedded import free_port, free_port_block
from lvyue.cli.services import PORT_BLOCK
from lvyue.common.settings import DEV_TOKENS
from tests.support.processes import http, start_lvyue_run, stop, wait_http

OPS = {"Authorization": f"Bearer {DEV_TOKENS['ops'][0]}"}


async def test_demo_drives_the_running_system(tmp_path: Path) -> None:
    port = free_port_block(PORT_BLOCK)
    review, fulfilment, aftersales = (f"http://127.0.0.1:{port + n}" for n in (0, 2, 3))
    log = tmp_path / "run.log"
    run = start_lvyue_run(tmp_path / "state", free_port(), port, log)
    try:
        for n in range(4):
            wait_http(f"http://127.0.0.1:{port + n}/readyz", process=run)
        demo = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "lvyue.cli", "demo", "--orders", "12", "--duration", "40",
             "--base-port", str(port), "--seed", "7"],
            capture_output=True, text=True, timeout=90, env={**os.environ, "COLUMNS": "160"},
        )  # fmt: skip
        assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
        out = demo.stdout
        print(out)
        for platform in ("lvyue", "shopify", "taobao", "jd", "pinduoduo", "douyin"):
            assert f" {platform} " in out, out
        assert "lvyue status --base-port" in out, out
        assert "/metrics" in out, out

        abnormal = (await http("GET", f"{review}/abnormal-orders", headers=OPS)).json()["items"]
        assert abnormal, out
        # Every shipment is an order review passed: it is reviewed, or shipped since.
        pick_list = (await http("GET", f"{fulfilment}/shipments", headers=OPS)).json()["items"]
        statuses = {
            (await http("GET", f"{review}/orders/{s['order_id']}", headers=OPS)).json()["status"]
            for s in pick_list
        }
        assert statuses & {"reviewed", "shipped"}, (statuses, out)
        shipped = await http(
            "GET", f"{fulfilment}/shipments", params={"status": "dispatched"}, headers=OPS
        )
        assert shipped.json()["total"] >= 1, out
        cases = await http("GET", f"{aftersales}/aftersales", headers=OPS)
        assert cases.json()["total"] >= 1, out
    finally:
        assert stop(run, signal.SIGINT, timeout_s=60) == 0, log.read_text()[-3000:]
