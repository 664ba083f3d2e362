"""This machine's own ceiling for intake, measured side by side with lvyue:

(a) raw writes: the intake transaction with raw asyncpg on the same PostgreSQL, at the same
    concurrency, no HTTP at all -> writes/s;
(b) the minimal receiver (receiver.py) as its own uvicorn process, loaded by the same load
    generator as lvyue -> webhooks/s and latency.
Both use a scratch database migrated with order-review's migrations.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from lvyue.cli.bench.load import LoadCounters
from lvyue.cli.bench.orders import OrderFactory
from lvyue.cli.bench.rawintake import write_order
from lvyue.cli.bench.receiver import SECRET_ENV
from lvyue.cli.embedded import free_port
from lvyue.common.db import libpq_url

DB_POOL_MAX = 20  # a service's default pool: LVYUE_DB_POOL_SIZE 10 + LVYUE_DB_MAX_OVERFLOW 10


def pool_size(concurrency: int) -> int:
    """Connections for the ceiling: as many as lvyue may open, never more than the load needs."""
    return max(1, min(concurrency, DB_POOL_MAX))


@dataclass
class RawWrites:
    started_at: float = 0.0
    finished_at: float = 0.0
    latencies_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return max(0.0, self.finished_at - self.started_at)


async def raw_writes(
    url: str,
    factory: OrderFactory,
    *,
    concurrency: int,
    duration_s: float,
    max_orders: int,
    counters: LoadCounters | None = None,
) -> RawWrites:
    """`concurrency` writers doing the intake transaction back to back, bounded by both limits."""
    counters = counters or LoadCounters()
    result = RawWrites()
    size = pool_size(concurrency)
    pool = await asyncpg.create_pool(libpq_url(url), min_size=size, max_size=size)
    remaining = max_orders
    loop = asyncio.get_running_loop()
    end = loop.time() + duration_s

    async def writer() -> None:
        nonlocal remaining
        while remaining > 0 and loop.time() < end:
            remaining -= 1
            order = factory.order()
            body = json.dumps(order, ensure_ascii=False, separators=(",", ":"))
            started = time.perf_counter()
            try:
                async with pool.acquire() as conn:
                    await write_order(conn, order, delivery_id=uuid.uuid4().hex, body=body)
            except (asyncpg.PostgresError, OSError) as exc:
                result.errors.append(type(exc).__name__)
                counters.failed += 1
            else:
                result.latencies_s.append(time.perf_counter() - started)
                counters.ok += 1
            counters.sent += 1

    try:
        result.started_at = time.time()
        await asyncio.wait_for(
            asyncio.gather(*(writer() for _ in range(concurrency))), timeout=duration_s + 30
        )
        result.finished_at = time.time()
    finally:
        await pool.close()
    return result


@dataclass
class Receiver:
    process: subprocess.Popen[bytes]
    url: str


def start_receiver(
    database_url: str, secret: str, *, concurrency: int, log_path: Path, timeout_s: float = 60
) -> Receiver:
    port = free_port()
    with log_path.open("ab") as out:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "lvyue.cli.bench.receiver", "--port", str(port),
                "--database-url", database_url, "--pool-size", str(pool_size(concurrency)),
            ],
            env={**os.environ, SECRET_ENV: secret},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    receiver = Receiver(process, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=1.0) as client:
        while process.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if client.get(f"{receiver.url}/livez").status_code == 200:
                    return receiver
            time.sleep(0.2)
    stop_receiver(receiver)
    raise RuntimeError(f"the minimal receiver did not start (exit code {process.returncode})")


def stop_receiver(receiver: Receiver, timeout_s: float = 10.0) -> None:
    process = receiver.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
