"""Services and `lvyue run` as real processes, for end-to-end tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.webhooks import lvyue_headers


def wait_http(
    url: str, *, timeout_s: float = 60.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer 200 within {timeout_s}s")


@contextmanager
def service_process(
    module: str, env: dict[str, str], *, port: int, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m <module>` with `env` on top of ours; stopped (TERM, then KILL) on exit."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", module],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_http(f"http://127.0.0.1:{port}/readyz", process=proc)
            yield proc
        finally:
            stop(proc)


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout_s: float = 30) -> int:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


async def http(method: str, url: str, **kwargs: object) -> httpx.Response:
    """One request from an async test without blocking the event loop."""
    async with httpx.AsyncClient(timeout=10.0) as client:
        return await client.request(method, url, **kwargs)  # type: ignore[arg-type]


def start_lvyue_run(
    state: Path,
    broker_port: int,
    base_port: int,
    log: Path,
    *extra: str,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """`lvyue run` on the embedded runtime with its own state folder and ports; `env` adds
    settings (LVYUE_*) to a clean environment."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"} and not k.startswith("LVYUE_")
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [
                sys.executable, "-m", "lvyue.cli", "run",
                "--state-dir", str(state),
                "--broker-port", str(broker_port),
                "--base-port", str(base_port),
                *extra,
            ],
            env=clean | dict(env or {}),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


async def stock_over_api(
    inventory: str, headers: dict[str, str], warehouse: str, skus: Iterable[str], units: int = 100
) -> None:
    """Each SKU created at the warehouse and `units` received, through inventory's API."""
    for sku in skus:
        created = await http(
            "PUT", f"{inventory}/skus/{warehouse}/{sku}", json={"name": sku}, headers=headers
        )
        assert created.status_code in {200, 201}, created.text
        receipt = await http(
            "POST", f"{inventory}/stock/receipts",
            json={"warehouse_id": warehouse, "sku": sku, "quantity": units,
                  "reference": f"PO-{sku}"},
            headers=headers,
        )  # fmt: skip
        assert receipt.status_code == 201, receipt.text


async def post_order(review: str, order: Mapping[str, object], secret: str) -> str:
    """A signed `lvyue` order webhook, accepted (201); the order's id."""
    body = json.dumps(order).encode()
    response = await http(
        "POST", f"{review}/webhooks/lvyue/orders", content=body,
        headers=lvyue_headers(body, secret),
    )  # fmt: skip
    assert response.status_code == 201, response.text
    order_id: str = response.json()["order_id"]
    return order_id


def start_sandbox(port: int, log: Path) -> subprocess.Popen[bytes]:
    """The dev sandbox sales platform (`lvyue.cli.sandbox`) as its own process."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "lvyue.cli.sandbox", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
