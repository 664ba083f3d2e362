"""One bench run: the stack up, stock in, the load phases, the ceiling, the scanner, the report."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import platform
import secrets
import signal
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
import structlog
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from lvyue.cli.bench import (
    ceiling,
    cpu_limits,
    dbstats,
    effects,
    generator,
    servicestats,
    summary,
)
from lvyue.cli.bench.calibration import reference_work_ms
from lvyue.cli.bench.config import BenchConfig
from lvyue.cli.bench.console import ConsolePlan, ConsoleTarget, run_console_bench
from lvyue.cli.bench.follow import Follower, fulfilment_running, pipeline
from lvyue.cli.bench.load import LoadCounters, LoadPlan, LoadResult
from lvyue.cli.bench.orders import OrderFactory, catalogue
from lvyue.cli.bench.progress import ticking
from lvyue.cli.bench.report import INTAKE_ALONE, per_order_deltas
from lvyue.cli.bench.sampling import Sampler, discover
from lvyue.cli.bench.scanner import ScannerPlan, run_scanner_bench
from lvyue.cli.bench.scratch import drop_database, fresh_database
from lvyue.cli.bench.seed import stock_skus
from lvyue.cli.bench.stack import Credentials, Stack, database_url, start_stack, stop_stack
from lvyue.cli.log_tail import log_tail
from lvyue.order_review.migrations import MIGRATIONS as ORDER_REVIEW_MIGRATIONS

IDLE_S = 3.0  # seconds of the idle baseline
INTAKE_PROCESS = "order-review"  # the process that answers webhooks; the rest is pipeline


class Bench:
    def __init__(self, cfg: BenchConfig, stack: Stack, creds: Credentials, progress: Progress):
        self.cfg, self.stack, self.creds, self.progress = cfg, stack, creds, progress
        self.skus = catalogue(cfg.skus)
        self.chain = pipeline()
        self.follower = Follower(stack.bootstrap_servers, self.chain, prefix=stack.topic_prefix)
        self.groups: dict[str, list[int]] = {}
        self.idle: dict[str, float] = {}  # CPU cores each process group uses doing nothing
        self.idle_db: dict[str, dict[str, float]] = {}  # database counters per second, idle

    async def measure(self) -> dict[str, Any]:
        cfg = self.cfg
        await stock_skus(
            self.stack.services["inventory"], self.creds.ops_token, self.skus,
            units=cfg.stock_units(),
        )  # fmt: skip
        self.groups = discover(self.stack.process.pid, self.stack.postmaster_pid)
        phases: dict[str, Any] = {}
        await self.follower.start()
        try:
            self.idle = await self.idle_baseline()
            phases["throughput"] = await self.lvyue_phase("lvyue", cfg.rate, seed=1)
            if cfg.latency_rate > 0:
                title = f"lvyue @{cfg.latency_rate:g}/s"
                phases["latency"] = await self.lvyue_phase(title, cfg.latency_rate, seed=2)
            receiver: dict[str, Any] = {}
            if not cfg.skip_ceiling:
                phases[INTAKE_ALONE], receiver = await self.intake_alone_phase(seed=5)
        finally:
            await self.follower.stop()
        topics = [self.stack.topic_prefix + topic for topic in self.chain]
        return {
            "idle_cpu_cores": {name: round(cores, 4) for name, cores in self.idle.items()},
            "phases": phases,
            "staged_twice": await effects.staged_twice(self.stack.server_url, topics),
            "ceiling": None if cfg.skip_ceiling else await self.ceiling(receiver),
            "scanner": None if cfg.skip_scanner else await self.scanner(),
            "console": None if cfg.skip_console else await self.console(),
        }

    async def idle_baseline(self) -> dict[str, float]:
        """What each process costs with no load (relays, scanners and consumers polling),
        in CPU cores; the databases' idle work per second goes to `self.idle_db`."""
        started = time.monotonic()

        def probe() -> tuple[float, str]:
            return time.monotonic() - started, ""

        db_before, db_started = await dbstats.snapshot(self.stack.server_url), time.monotonic()
        async with (
            Sampler(self.groups, {}) as idle,
            ticking(self.progress, "idle baseline", IDLE_S, probe),
        ):
            await asyncio.sleep(IDLE_S)
        db_after = await dbstats.snapshot(self.stack.server_url, settle=True)
        db_seconds = time.monotonic() - db_started
        self.idle_db = {
            db: {counter: grown / db_seconds for counter, grown in counts.items()}
            for db, counts in per_order_deltas(db_before, db_after, 1).items()
        }
        return idle.result.idle_cores()

    def _plan(self, url: str, rate: float) -> LoadPlan:
        cfg = self.cfg
        return LoadPlan(url=url, secret=self.creds.webhook_secret, concurrency=cfg.concurrency,
                        rate=rate, duration_s=cfg.duration_s, max_orders=cfg.orders)  # fmt: skip

    async def _ready(
        self, stack: contextlib.AsyncExitStack, title: str, plan: LoadPlan, seed: int
    ) -> generator.Fire:
        """The phase's load, prepared before the phase is measured (wrk: signed up front)."""
        started = time.monotonic()

        def probe() -> tuple[float, str]:
            return 0.0, f"{time.monotonic() - started:.0f} s"

        async with ticking(self.progress, f"{title}: preparing the load", 1, probe):
            return await stack.enter_async_context(
                generator.ready(self.cfg.generator, plan, OrderFactory(self.skus, seed=seed))
            )

    async def _fire(self, title: str, plan: LoadPlan, fire: generator.Fire) -> LoadResult:
        counters, started = LoadCounters(), time.monotonic()

        def probe() -> tuple[float, str]:
            elapsed = time.monotonic() - started
            if self.cfg.generator == "wrk":  # wrk's answers are read once it has finished
                return elapsed, f"wrk, {plan.concurrency} connections"
            rps = counters.ok / elapsed if elapsed else 0.0
            return (
                elapsed,
                f"sent {counters.sent} ok {counters.ok} err {counters.failed} ({rps:,.0f}/s)",
            )

        async with ticking(self.progress, title, plan.duration_s, probe):
            return await fire(counters)

    async def lvyue_phase(self, title: str, rate: float, *, seed: int) -> dict[str, Any]:
        plan = self._plan(self.stack.intake_url, rate)
        async with contextlib.AsyncExitStack() as prepared:
            fire = await self._ready(prepared, title, plan, seed)
            redelivered = self.follower.redelivered
            kafka_before = await servicestats.snapshot(self.stack.services)
            db_before, db_started = await dbstats.snapshot(self.stack.server_url), time.monotonic()
            async with Sampler(self.groups, self.stack.services) as sampler:
                load = await self._fire(title, plan, fire)
                accepted = [s.order_id for s in load.accepted if s.order_id is not None]

                def drained() -> tuple[float, str]:
                    done = sum(1 for o in accepted if self.follower.outcome(o) is not None)
                    return done, f"{done}/{len(accepted)} through {self.chain[-1]}"

                async with ticking(self.progress, f"{title} drain", len(accepted) or 1, drained):
                    await self.follower.wait_for(accepted, timeout_s=self.cfg.drain_timeout_s)
        db_after = await dbstats.snapshot(self.stack.server_url, settle=True)
        db_seconds = time.monotonic() - db_started
        kafka_after = await servicestats.snapshot(self.stack.services)
        result = summary.phase_summary(
            load, target_rate=rate, concurrency=plan.concurrency, chain=self.chain,
            seen=self.follower.seen, outcomes={o: self.follower.outcome(o) for o in accepted},
            redelivered=self.follower.redelivered - redelivered, sample=sampler.result,
            idle=self.idle,
        )  # fmt: skip
        result["database_per_order"] = per_order_deltas(
            db_before, db_after, result["completed"], idle_per_s=self.idle_db, seconds=db_seconds
        )
        counters = servicestats.per_order(kafka_before, kafka_after, result["completed"])
        result["kafka_per_order"] = servicestats.kafka(counters)
        result["sql_statements_per_order"] = servicestats.sql_statements(counters)
        return result

    async def intake_alone_phase(self, *, seed: int) -> tuple[dict[str, Any], dict[str, Any]]:
        """Intake's own capacity, measured as the minimal receiver's is and right after it, in
        the same conditions: every process downstream of order.created is paused (SIGSTOP)
        while the receiver and then intake are loaded flat out, so each (with PostgreSQL) has
        the cores to itself. Under `lvyue run` order-review's outbox relay runs in its
        consumers' process, paused with the rest: like the receiver, intake commits and
        answers, and publishing waits. The pipeline is then resumed and the backlog followed
        to its end (published, then processed): nothing accepted while it was paused may be
        lost. (this phase, the minimal receiver's result)"""
        plan = self._plan(self.stack.intake_url, 0)
        paused = [n for n in self.groups if n in self.stack.services and n != INTAKE_PROCESS]
        pipeline = [pid for name in paused for pid in self.groups[name]]
        async with contextlib.AsyncExitStack() as prepared:
            receiver = await self._minimal_receiver(prepared)
            fire = await self._ready(prepared, INTAKE_ALONE, plan, seed)
            try:
                _signal_all(pipeline, signal.SIGSTOP)
                minimal = await receiver()
                async with Sampler(self.groups, {}) as sampler:
                    load = await self._fire(INTAKE_ALONE, plan, fire)
            finally:
                _signal_all(pipeline, signal.SIGCONT)
        accepted = [s.order_id for s in load.accepted if s.order_id is not None]
        resumed = time.monotonic()

        def drained() -> tuple[float, str]:
            done = sum(1 for o in accepted if self.follower.outcome(o) is not None)
            return done, f"{done}/{len(accepted)} through {self.chain[-1]}"

        title = f"{INTAKE_ALONE}: pipeline resumed, backlog"
        async with ticking(self.progress, title, len(accepted) or 1, drained):
            await self.follower.wait_for(accepted, timeout_s=self.cfg.drain_timeout_s)
        completed = sum(1 for o in accepted if self.follower.outcome(o) is not None)
        intake = summary.load_summary(load, target_rate=0, concurrency=plan.concurrency)
        return {
            "intake": intake,
            "paused": paused,
            "completed": completed,
            "backlog_drained_s": round(time.monotonic() - resumed, 1),
            "e2e_orders_per_s": None,  # the pipeline was paused: not an end-to-end rate
            "latency": {"http_intake": intake["latency"]},
            "errors": intake["errors"],
            "resources": sampler.result.to_dict(orders=len(accepted), idle=self.idle),
        }, minimal

    async def _minimal_receiver(
        self, prepared: contextlib.AsyncExitStack
    ) -> Callable[[], Awaitable[dict[str, Any]]]:
        """The minimal receiver started on a fresh database of the same PostgreSQL and its
        load prepared (both undone when `prepared` closes); returns what loads and samples it."""
        cfg = self.cfg
        url = database_url(self.stack, "lvyue_bench_receiver")
        await fresh_database(url, ORDER_REVIEW_MIGRATIONS)
        prepared.push_async_callback(drop_database, url)
        log_path = cfg.state_dir / "receiver.log"
        receiver = ceiling.start_receiver(
            url, self.creds.webhook_secret, concurrency=cfg.concurrency, log_path=log_path
        )
        prepared.callback(ceiling.stop_receiver, receiver)
        plan = self._plan(receiver.url, cfg.rate)
        fire = await self._ready(prepared, "minimal receiver", plan, 4)
        groups = {k: v for k, v in self.groups.items() if k in {"postgres", "bench"}}
        groups["minimal-receiver"] = [receiver.process.pid]

        async def measure() -> dict[str, Any]:
            async with Sampler(groups, {}) as sample:
                load = await self._fire("minimal receiver", plan, fire)
            return {
                **summary.load_summary(load, target_rate=cfg.rate, concurrency=cfg.concurrency),
                "resources": sample.result.to_dict(orders=len(load.accepted), idle=self.idle),
            }

        return measure

    async def ceiling(self, receiver: dict[str, Any]) -> dict[str, Any]:
        """The raw-asyncpg ceiling, with `receiver`: the minimal receiver's result (measured
        in the intake-alone phase, beside intake)."""
        cfg = self.cfg
        url = database_url(self.stack, "lvyue_bench_ceiling")
        await fresh_database(url, ORDER_REVIEW_MIGRATIONS)
        counters, started = LoadCounters(), time.monotonic()

        def probe() -> tuple[float, str]:
            return time.monotonic() - started, f"writes {counters.ok} err {counters.failed}"

        groups = {k: v for k, v in self.groups.items() if k in {"postgres", "bench"}}
        async with (
            Sampler(groups, {}) as raw_sample,
            ticking(self.progress, "raw asyncpg", cfg.duration_s, probe),
        ):
            raw = await ceiling.raw_writes(
                url, OrderFactory(self.skus, seed=3), concurrency=cfg.concurrency,
                duration_s=cfg.duration_s, max_orders=cfg.orders, counters=counters,
            )  # fmt: skip
        await drop_database(url)
        return {
            "raw_writes": {
                **summary.raw_writes_summary(
                    raw, concurrency=cfg.concurrency, pool=ceiling.pool_size(cfg.concurrency)
                ),
                "resources": raw_sample.result.to_dict(orders=len(raw.latencies_s), idle=self.idle),
            },
            "minimal_receiver": receiver,
        }

    async def scanner(self) -> dict[str, Any]:
        cfg = self.cfg
        plan = ScannerPlan(
            total=cfg.scanner_deadlines, due=cfg.scanner_due, window_s=cfg.scanner_window_s
        )
        bars: dict[str, Any] = {}

        def report(what: str, done: float, total: float) -> None:
            if what not in bars:
                title = "deadlines COPY" if what == "insert" else "deadlines firing"
                bars[what] = self.progress.add_task(title, total=total)
            self.progress.update(bars[what], completed=done)

        result = await run_scanner_bench(
            database_url(self.stack, "lvyue_bench_scanner"), plan, progress=report
        )
        return {
            "deadlines": plan.total,
            "due": plan.due,
            "insert_rows_per_s": result.insert_rows_per_s,
            "scan_cost": result.checkpoints,
            "firing": result.firing,
        }

    async def console(self) -> dict[str, Any]:
        """The console's pages, timed with many abnormal orders in the queue."""
        cfg, stack = self.cfg, self.stack
        if stack.console_url is None:
            raise RuntimeError("lvyue run serves no console")
        target = ConsoleTarget(
            console_url=stack.console_url,
            intake_url=stack.intake_url,
            review_url=stack.intake_url,
            webhook_secret=self.creds.webhook_secret,
            ops_token=self.creds.ops_token,
        )
        tasks: dict[str, Any] = {}

        def report(what: str, done: float, total: float) -> None:
            if what not in tasks:
                tasks[what] = self.progress.add_task(what, total=total)
            self.progress.update(tasks[what], completed=done, total=total)

        plan = ConsolePlan(orders=cfg.console_orders, requests=cfg.console_requests)
        return await run_console_bench(target, self.skus, plan, report)


def run_bench(cfg: BenchConfig, console: Console) -> tuple[dict[str, Any], Path]:
    """Runs every part the options ask for and writes the JSON report; (report, its path)."""
    # The scanner logs a warning per breach: 100,000 of them would drown the progress bars.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    output = cfg.output_path
    creds = Credentials(webhook_secret=secrets.token_hex(16), ops_token=secrets.token_hex(16))
    started, load_before = datetime.now(UTC), psutil.getloadavg()
    with console.status("timing the reference work (how fast the cores are now)"):
        speed_before = reference_work_ms()
    with console.status("starting lvyue run (PostgreSQL, broker, services)"):
        stack = start_stack(
            state_dir=cfg.state_dir, creds=creds, database_url=cfg.database_url, kafka=cfg.kafka,
            replicas=cfg.replicas,
        )  # fmt: skip
    notes: list[str] = []
    if cfg.rate > 0 and not cfg.skip_ceiling:
        notes.append(
            f"--rate {cfg.rate:g}: lvyue and the minimal receiver were both paced, so the "
            "throughput ratios compare paces, not capacities; use --rate 0 for the ceiling"
        )
    if cfg.cores_per_replica and not cfg.skip_ceiling:
        notes.append(
            f"--cores-per-replica {cfg.cores_per_replica:g}: intake alone ran within its "
            "replica's quota and the minimal receiver without one, so their ratio compares "
            "unlike; use --skip-ceiling with it"
        )
    notes.append(
        "SQL statements per order are counted by the services' engines (lvyue_db_statements_"
        "total): the embedded PostgreSQL (pgserver) ships without pg_stat_statements"
    )
    if not fulfilment_running():
        notes.append(
            "fulfilment is not in lvyue.cli.services.SERVICES yet: orders were followed to "
            "order.reviewed, not shipment.requested (stage reviewed→requested not measured)"
        )
    try:
        progress = Progress(
            TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console
        )
        with progress, _replicas_limited(cfg, stack):
            try:
                parts = asyncio.run(Bench(cfg, stack, creds, progress).measure())
            except Exception as exc:
                if stack.process.poll() is None:
                    raise
                # The system under test went away (a service exited, so `lvyue run` stopped
                # everything): say so rather than blame whatever query it interrupted.
                tail = log_tail(stack.log_path, lines=40)
                raise RuntimeError(
                    f"lvyue run stopped during the bench (exit {stack.process.returncode}); "
                    f"the end of {stack.log_path}:\n{tail}"
                ) from exc
    finally:
        with console.status("stopping lvyue run"):
            stop_stack(stack)
    with console.status("timing the reference work again"):
        speed_after = reference_work_ms()
    report: dict[str, Any] = {
        "meta": _meta(started, load_before, (speed_before, speed_after)),
        "options": cfg.to_dict(),
        "services": stack.service_names,
        "pipeline": pipeline(),
        "cpu_limits": _cpu_limits(cfg),
        **parts,
    }
    notes.append(
        f"machine speed: the reference work took {speed_before:g} ms of CPU before the run and "
        f"{speed_after:g} ms after it (lvyue.cli.bench.calibration); compare CPU per order "
        "with another run's only where it took about as long"
    )
    report["notes"] = notes + summary.load_notes(report)
    report["ratios"] = summary.ratios(report)
    report["per_core"] = summary.per_core(report)
    report["targets"] = summary.verdicts(report, latency_rate=cfg.latency_rate)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    return report, output


def _replicas_limited(cfg: BenchConfig, stack: Stack) -> contextlib.AbstractContextManager[Any]:
    """--cores-per-replica: each replica's processes in a CPU quota of their own."""
    if not cfg.cores_per_replica:
        return contextlib.nullcontext()
    replicas = cpu_limits.replicas_of(stack.process.pid)
    if sorted(replicas) != list(range(cfg.replicas)):
        raise RuntimeError(
            f"--cores-per-replica: expected the processes of {cfg.replicas} replicas, found "
            f"replicas {sorted(replicas)}"
        )
    return cpu_limits.limited(replicas, cfg.cores_per_replica)


def _cpu_limits(cfg: BenchConfig) -> dict[str, float] | None:
    if not cfg.cores_per_replica:
        return None
    return {
        "cores_per_replica": cfg.cores_per_replica,
        "allotted_cores": cfg.cores_per_replica * cfg.replicas,
    }


def _signal_all(pids: list[int], signum: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def _meta(
    started: datetime, load_before: tuple[float, float, float], speed: tuple[float, float]
) -> dict[str, Any]:
    return {
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "host": platform.node(),
        "python": platform.python_version(),
        "cpus": psutil.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 1024**3, 1),
        # Other work on the machine skews everything: a quiet machine shows ~0 before the run.
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in psutil.getloadavg()],
        # How fast the cores were (lvyue.cli.bench.calibration): compare runs that agree here.
        "reference_work_ms": {"before": speed[0], "after": speed[1]},
    }
