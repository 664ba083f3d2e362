"""One deadline scanner replica as its own process, as a service replica would run it: the
real DeadlineScanner loop (scan until clear, refresh the gauges, wait `interval_s`) on a
clock shifted by a fixed offset, until no deadline of the burst is open or time is up.

    python -m lvyue.cli.bench.replica --database-url ... --index 0
prints "ready" once imported and connected to nothing yet, reads one JSON line
{"offset_s": ..., "stop_at": ...} from stdin, scans, then prints its result as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import resource
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import structlog

from lvyue.common.db import libpq_url, make_engine, make_session_factory
from lvyue.common.deadlines.scanner import DeadlineScanner
from lvyue.common.deadlines.store import Deadline
from lvyue.common.uow import UnitOfWorkFactory

DUE_SLA = "bench_due"
OPEN_DUE = "SELECT count(*) FROM deadlines WHERE state = 'open' AND sla = $1"


class ShiftedClock:
    """Real time plus a fixed offset: it runs at real speed from where the bench needs it."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class TimedScanner(DeadlineScanner):
    """A DeadlineScanner that times its scans and gauge refreshes and counts its breaches."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scan_s: list[float] = []
        self.gauges_s: list[float] = []
        self.breached = 0

    async def scan_once(self) -> list[Deadline]:
        started = time.perf_counter()
        breached = await super().scan_once()
        self.scan_s.append(time.perf_counter() - started)
        self.breached += len(breached)
        return breached

    async def refresh_gauges(self) -> None:
        started = time.perf_counter()
        await super().refresh_gauges()
        self.gauges_s.append(time.perf_counter() - started)


@dataclass(frozen=True)
class ReplicaJob:
    database_url: str
    index: int
    offset_s: float  # the shifted clock's offset from real time
    stop_at: float  # epoch seconds: give up then, whatever is left
    batch_size: int
    interval_s: float


def run_replica(job: ReplicaJob) -> dict[str, Any]:
    """Process entry point: the replica's breaches, scan and refresh times, CPU seconds."""
    # A warning per breach would flood the bench's terminal.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    before = resource.getrusage(resource.RUSAGE_SELF)
    scanner = asyncio.run(_scan(job))
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "breached": scanner.breached,
        "scan_s": scanner.scan_s,
        "gauges_s": scanner.gauges_s,
        "cpu_s": round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 2),
    }


async def _scan(job: ReplicaJob) -> TimedScanner:
    engine = make_engine(job.database_url, pool_size=2, max_overflow=1)
    clock = ShiftedClock(timedelta(seconds=job.offset_s))
    uows = UnitOfWorkFactory(make_session_factory(engine), source="/lvyue/bench", clock=clock)
    scanner = TimedScanner(
        uows, service=f"bench-{job.index}", batch_size=job.batch_size, interval_s=job.interval_s
    )
    stop = asyncio.Event()
    conn = await asyncpg.connect(libpq_url(job.database_url))
    task = asyncio.create_task(scanner.run(stop))
    try:
        while time.time() < job.stop_at:
            if not await conn.fetchval(OPEN_DUE, DUE_SLA):
                break  # every deadline of the burst is breached
            await asyncio.sleep(0.5)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=60)
        await conn.close()
        await engine.dispose()
    return scanner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--index", type=int, required=True)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--interval", type=float, default=0.2)
    args = parser.parse_args()
    print("ready", flush=True)  # imports done: the bench may start the clock now
    go = json.loads(sys.stdin.readline())
    job = ReplicaJob(
        args.database_url, args.index, float(go["offset_s"]), float(go["stop_at"]),
        args.batch_size, args.interval,
    )  # fmt: skip
    print(json.dumps(run_replica(job)), flush=True)


if __name__ == "__main__":
    main()
