"""Deadline scanner bench: many open deadlines, a burst falling due, two scanner replicas.

A scratch database gets the kernel tables and `total` open deadlines by COPY, `due` of them
falling due over `window_s`. Scan cost (time per scan_once, idle and breaching a full batch,
and the gauge refresh the scan loop runs too) is measured as the table grows past each
checkpoint. Then two DeadlineScanner replicas, each in its own process like service replicas,
run their own loop (every 0.2 s) until every due deadline is breached: firing lag is
breached_at - due_at, and a double fire shows as two sla.breached outbox rows for one
deadline id.

The due burst is inserted with the rest, a day ahead; when the replicas start, their clock is
shifted so that the burst begins a second later. Shifted or not, that clock runs at real speed,
so the lag is real; the rest of the table never falls due.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import sys
import time
import uuid
from asyncio.subprocess import Process
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from lvyue.cli.bench.replica import DUE_SLA, OPEN_DUE, TimedScanner
from lvyue.cli.bench.report import latency_summary
from lvyue.cli.bench.scratch import drop_database, fresh_database
from lvyue.common.clock import SystemClock
from lvyue.common.db import libpq_url, make_engine, make_session_factory
from lvyue.common.migrate import KERNEL_MIGRATIONS
from lvyue.common.uow import UnitOfWorkFactory

PROBE_SLA = "bench_probe"
OTHER_SLAS = ("review_by_0900", "dispatch_1600", "outbound_24h")
COLUMNS = ("id", "sla", "subject", "state", "opened_at", "due_at")
LEAD = timedelta(seconds=1)

Progress = Callable[[str, float, float], None]  # (what, done, total)


@dataclass(frozen=True)
class ScannerPlan:
    total: int
    due: int
    window_s: float
    replicas: int = 2
    interval_s: float = 0.2
    batch_size: int = 500
    copy_batch: int = 50_000
    grace_s: float = 30.0  # after the window, how long the last ones may take

    @property
    def checkpoints(self) -> list[int]:
        return sorted({c for c in (10_000, 100_000, 1_000_000) if c < self.total} | {self.total})


@dataclass
class ScannerResult:
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    insert_rows_per_s: float | None = None
    firing: dict[str, Any] = field(default_factory=dict)


def _rows(plan: ScannerPlan, start: datetime, burst_at: datetime) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(11)
    every = plan.total / plan.due if plan.due else float("inf")
    next_due = 0.0
    for i in range(plan.total):
        if i >= next_due and plan.due:
            next_due += every
            due_at = burst_at + timedelta(seconds=rng.uniform(0, plan.window_s))
            yield uuid.uuid4(), DUE_SLA, f"due-{i}", "open", start, due_at
        else:
            far = start + timedelta(days=30, seconds=rng.uniform(0, 30 * 86400))
            yield uuid.uuid4(), rng.choice(OTHER_SLAS), f"order-{i}", "open", start, far


def _ms(values: list[float]) -> float | None:
    return round(statistics.median(values) * 1000, 2) if values else None


async def _scan_cost(
    conn: asyncpg.Connection, probe: TimedScanner, open_count: int, batch: int
) -> dict[str, Any]:
    idle = [await _timed(probe.scan_once) for _ in range(5)]
    full = []
    for _ in range(3):
        now = datetime.now(UTC)
        await conn.copy_records_to_table(
            "deadlines",
            records=[(uuid.uuid4(), PROBE_SLA, f"probe-{uuid.uuid4().hex}", "open", now,
                      now - timedelta(seconds=1)) for _ in range(batch)],
            columns=COLUMNS,
        )  # fmt: skip
        full.append(await _timed(probe.scan_once))
    gauges = [await _timed(probe.refresh_gauges) for _ in range(3)]
    return {
        "open_deadlines": open_count,
        "idle_scan_ms": _ms(idle),
        "full_batch_scan_ms": _ms(full),
        "batch_size": batch,
        "refresh_gauges_ms": _ms(gauges),
    }


async def _timed(call: Callable[[], Any]) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


async def run_scanner_bench(
    database_url: str, plan: ScannerPlan, *, progress: Progress | None = None
) -> ScannerResult:
    report = progress or (lambda what, done, total: None)
    await fresh_database(database_url, KERNEL_MIGRATIONS)
    engine = make_engine(database_url, pool_size=plan.replicas + 2, max_overflow=2)
    conn = await asyncpg.connect(libpq_url(database_url))
    result = ScannerResult()
    try:
        sessions = make_session_factory(engine)
        system = UnitOfWorkFactory(sessions, source="/lvyue/bench", clock=SystemClock())
        probe = TimedScanner(system, service="bench-probe", batch_size=plan.batch_size)
        start = datetime.now(UTC)
        burst_at = start + timedelta(days=1)
        rows, inserted, copy_s = _rows(plan, start, burst_at), 0, 0.0
        for checkpoint in plan.checkpoints:
            while inserted < checkpoint:
                chunk = [next(rows) for _ in range(min(plan.copy_batch, checkpoint - inserted))]
                began = time.perf_counter()
                await conn.copy_records_to_table("deadlines", records=chunk, columns=COLUMNS)
                copy_s += time.perf_counter() - began
                inserted += len(chunk)
                report("insert", inserted, plan.total)
            await conn.execute("ANALYZE deadlines")
            result.checkpoints.append(await _scan_cost(conn, probe, inserted, plan.batch_size))
        result.insert_rows_per_s = round(inserted / copy_s, 1) if copy_s else None
        result.firing = await _fire(conn, database_url, plan=plan, burst_at=burst_at, report=report)
    finally:
        await conn.close()
        await engine.dispose()
    await drop_database(database_url)
    return result


async def _start_replica(database_url: str, index: int, plan: ScannerPlan) -> Process:
    replica = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "lvyue.cli.bench.replica", "--database-url", database_url,
        "--index", str(index), "--batch-size", str(plan.batch_size),
        "--interval", str(plan.interval_s),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert replica.stdout is not None
    ready = await asyncio.wait_for(replica.stdout.readline(), timeout=120)
    if ready.strip() != b"ready":
        raise RuntimeError(f"scanner replica {index} did not start: {ready!r}")
    return replica


async def _finish(replica: Process, timeout_s: float) -> dict[str, Any]:
    out, _ = await asyncio.wait_for(replica.communicate(), timeout=timeout_s)
    if replica.returncode != 0:
        raise RuntimeError(f"a scanner replica failed with {replica.returncode}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


async def _fire(
    conn: asyncpg.Connection,
    database_url: str,
    *,
    plan: ScannerPlan,
    burst_at: datetime,
    report: Progress,
) -> dict[str, Any]:
    # Replicas start and import before their clock is set, so none of them starts late.
    started = [await _start_replica(database_url, i, plan) for i in range(plan.replicas)]
    offset = (burst_at - LEAD) - datetime.now(UTC)
    limit = LEAD.total_seconds() + plan.window_s + plan.grace_s
    go = json.dumps({"offset_s": offset.total_seconds(), "stop_at": time.time() + limit})
    for replica in started:
        assert replica.stdin is not None
        replica.stdin.write(go.encode() + b"\n")
        await replica.stdin.drain()
    finishing = [asyncio.ensure_future(_finish(r, limit + 90)) for r in started]
    try:
        while not all(f.done() for f in finishing):
            report("fire", plan.due - await conn.fetchval(OPEN_DUE, DUE_SLA), plan.due)
            await asyncio.wait(finishing, timeout=0.25)
        replicas = [f.result() for f in finishing]
    finally:
        for replica in started:
            if replica.returncode is None:
                replica.kill()
                await replica.wait()
    report("fire", plan.due - await conn.fetchval(OPEN_DUE, DUE_SLA), plan.due)
    lags = [
        float(r["lag"])
        for r in await conn.fetch(
            "SELECT extract(epoch FROM breached_at - due_at) AS lag FROM deadlines "
            "WHERE sla = $1 AND state = 'breached'",
            DUE_SLA,
        )
    ]
    double_fires = await conn.fetchval(
        "SELECT count(*) FROM (SELECT payload->>'deadline_id' FROM outbox "
        "WHERE topic = 'sla.breached' GROUP BY 1 HAVING count(*) > 1) twice"
    )
    return {
        "replicas": plan.replicas,
        "interval_s": plan.interval_s,
        "due": plan.due,
        "window_s": plan.window_s,
        "breached": len(lags),
        "missed": plan.due - len(lags),
        "breached_per_replica": [r["breached"] for r in replicas],
        "cpu_s_per_replica": [r["cpu_s"] for r in replicas],
        "double_fires": int(double_fires),
        "lag": latency_summary(lags),
        "scan_once": latency_summary([t for r in replicas for t in r["scan_s"]]),
        "refresh_gauges": latency_summary([t for r in replicas for t in r["gauges_s"]]),
    }
