"""The whole system as processes (`lvyue run`): an order is reviewed with stock reserved,
an unknown SKU makes it abnormal, a cancellation gives the stock back."""

from __future__ import annotations

import signal
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lvyue.cli.embedded import free_port, free_port_block
from lvyue.cli.services import PORT_BLOCK, process_ports
from lvyue.common.settings import DEV_TOKENS, DEV_WEBHOOK_SECRET
from tests.support.polling import eventually
from tests.support.processes import (
    http,
    post_order,
    start_lvyue_run,
    stock_over_api,
    stop,
    wait_http,
)
from tests.support.webhooks import canonical_sample

OPS = {"Authorization": f"Bearer {DEV_TOKENS['ops'][0]}"}
WAREHOUSE = "WH-SH-01"


def _order(**changes: Any) -> dict[str, Any]:
    data = canonical_sample()
    data.update(
        remarks="", platform_order_id=uuid.uuid4().hex, paid_at=datetime.now(UTC).isoformat()
    )
    data.update(changes)
    return data


async def test_orders_flow_through_review_and_inventory_as_processes(tmp_path: Path) -> None:
    port = free_port_block(PORT_BLOCK)
    review, inventory = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}"
    log = tmp_path / "run.log"
    run = start_lvyue_run(tmp_path / "state", free_port(), port, log)
    try:
        wait_http(f"{review}/readyz", process=run)
        wait_http(f"{inventory}/readyz", process=run)
        await stock_over_api(inventory, OPS, WAREHOUSE, ("TEA-LJ-250G", "CUP-GLASS-01"))

        async def post(order: dict[str, Any]) -> str:
            return await post_order(review, order, DEV_WEBHOOK_SECRET)

        async def status(order_id: str) -> str:
            view = await http("GET", f"{review}/orders/{order_id}", headers=OPS)
            state: str = view.json()["status"]
            return state

        async def reserved(sku: str) -> int:
            view = await http("GET", f"{inventory}/skus/{WAREHOUSE}/{sku}", headers=OPS)
            count: int = view.json()["reserved"]
            return count

        good = await post(_order())
        unknown = await post(
            _order(lines=[{"sku": "NO-SUCH-SKU", "quantity": 1, "unit_price": "9.90"}])
        )
        await eventually(lambda: status(good), lambda s: s == "reviewed", timeout_s=30)
        await eventually(lambda: status(unknown), lambda s: s == "abnormal", timeout_s=30)
        assert await reserved("TEA-LJ-250G") == 2
        queue = (await http("GET", f"{review}/abnormal-orders", headers=OPS)).json()["items"]
        assert [f["reason"] for f in queue[0]["findings"]] == ["unknown_sku"]

        cancelled = await http(
            "POST", f"{review}/orders/{good}/cancel", json={"reason": "买家不要了"}, headers=OPS
        )
        assert cancelled.status_code == 200, cancelled.text
        await eventually(lambda: reserved("TEA-LJ-250G"), lambda n: n == 0, timeout_s=30)

        # The kernel's tables are pruned once per service: where its jobs run, not in
        # order-review's API process; so are the webhook deliveries of the two that take them.
        for name, process_port in process_ports(port).items():
            metrics = (await http("GET", f"http://127.0.0.1:{process_port}/metrics")).text
            kernel = _runs(metrics, "prune_kernel_tables")
            assert (kernel >= 1) if name != "order-review" else (kernel == 0), (name, kernel)
            deliveries = _runs(metrics, "prune_webhook_deliveries")
            takes_webhooks = name in ("order-review consumers", "aftersales")
            assert (deliveries >= 1) if takes_webhooks else (deliveries == 0), (name, deliveries)
    finally:
        assert stop(run, signal.SIGINT, timeout_s=60) == 0, log.read_text()[-3000:]


def _runs(metrics: str, job: str) -> float:
    """Successful runs of a periodic job in one process's /metrics."""
    prefix = f'lvyue_job_runs_total{{job_name="{job}",outcome="ok"}} '
    return sum(
        float(ln.removeprefix(prefix)) for ln in metrics.splitlines() if ln.startswith(prefix)
    )
