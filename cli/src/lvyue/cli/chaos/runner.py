"""One chaos run: the embedded system up, stock in, orders and faults, the warehouse, the wait
for quiescence, the checks, the table and the JSON result."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from lvyue.cli.bench.orders import OrderFactory, catalogue
from lvyue.cli.bench.seed import stock_skus
from lvyue.cli.bench.stack import Credentials, Stack, start_stack, stop_stack
from lvyue.cli.chaos import findings
from lvyue.cli.chaos.checks import Check, evaluate, violations
from lvyue.cli.chaos.drive import Driver, Injected, Targets, inject, warehouse
from lvyue.cli.chaos.faults import FaultKind, PlannedFault, schedule

PROGRESS_EVERY_S = 5.0
QUIET_POLL_S = 2.0
WARM_UP_S = 60.0  # the first order's way to its shipment, before any fault
STALL_S = 60.0  # quiescence is given up when nothing moved for this long


@dataclass
class ChaosConfig:
    orders: int = 1000
    duplicate_rate: float = 0.1
    seed: int = 1
    faults: dict[FaultKind, int] = field(
        default_factory=lambda: {FaultKind.SERVICE: 1, FaultKind.POSTGRES: 1, FaultKind.BROKER: 1}
    )
    timeout_s: float = 900.0
    rate: float = 20.0
    concurrency: int = 8
    skus: int = 20
    warm_up: bool = True  # one order through to its shipment before the load and faults
    wait_for_pipeline: bool = True  # after a fault, an order through before the next fault
    base_port: int | None = None
    state_dir: Path | None = None
    json_path: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "orders": self.orders, "duplicate_rate": self.duplicate_rate, "seed": self.seed,
            "faults": {str(k): v for k, v in self.faults.items()}, "timeout_s": self.timeout_s,
            "rate": self.rate, "concurrency": self.concurrency, "skus": self.skus,
            "warm_up": self.warm_up, "wait_for_pipeline": self.wait_for_pipeline,
            "base_port": self.base_port,
            "state_dir": None if self.state_dir is None else str(self.state_dir),
        }  # fmt: skip


class Run:
    def __init__(
        self, cfg: ChaosConfig, stack: Stack, creds: Credentials, say: Callable[[str], None]
    ):
        self.cfg, self.stack, self.creds, self.say = cfg, stack, creds, say
        self.skus = catalogue(cfg.skus)
        self.driver = Driver(
            stack.intake_url,
            creds.webhook_secret,
            OrderFactory(self.skus, seed=cfg.seed),
            duplicate_rate=cfg.duplicate_rate,
            seed=cfg.seed,
        )
        self.deadline = time.monotonic() + cfg.timeout_s
        self.durations: dict[str, float] = {}
        self.injected: list[Injected] = []
        self.plan: list[PlannedFault] = []
        self.stuck: list[dict[str, str | None]] = []  # accepted orders never shipped

    async def go(self, pgdata: Path) -> dict[str, int]:
        cfg, tally = self.cfg, self.driver.tally
        units = 3 * (cfg.orders + 200)  # every order taking this SKU at the most, and probes
        await stock_skus(self.stack.services["inventory"], self.creds.ops_token, self.skus,
                         units=units)  # fmt: skip
        if cfg.warm_up:
            await self._warm_up()
        window = cfg.orders / cfg.rate if cfg.rate > 0 else cfg.orders / 50
        self.plan = schedule(
            cfg.seed, cfg.faults, window_s=window, services=list(self.stack.services)
        )
        for fault in self.plan:
            self.say(f"planned: {fault.kind} {fault.target} at {fault.at_s:.1f}s")
        started = time.monotonic()
        stop_sending, stop_warehouse = asyncio.Event(), asyncio.Event()
        assert self.creds.warehouse_token is not None
        wh = asyncio.create_task(
            warehouse(self.stack.services["fulfilment"], self.creds.warehouse_token, tally,
                      stop_warehouse)
        )  # fmt: skip
        ticker = asyncio.create_task(self._progress(started))
        targets = Targets(
            self.stack.process.pid, self.stack.services, pgdata, self.stack.server_url
        )
        try:
            sending = self.driver.send(
                cfg.orders, rate=cfg.rate, concurrency=cfg.concurrency, stop=stop_sending
            )
            injecting = inject(self.plan, self.driver, targets, started=started, say=self.say,
                               deadline=self.deadline, done=self.injected,
                               wait_for_pipeline=cfg.wait_for_pipeline)  # fmt: skip
            try:
                await asyncio.wait_for(asyncio.gather(sending, injecting), timeout=self._left())
            except TimeoutError:
                self.say("[red]timeout while sending orders and injecting faults[/]")
                stop_sending.set()
            self.durations["drive_s"] = time.monotonic() - started
            quiet_started = time.monotonic()
            quiesced = await self._quiesce()
            self.durations["quiescence_s"] = time.monotonic() - quiet_started
        finally:
            stop_warehouse.set()
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            await wh
            await self.driver.close()
        self.say("checking: SQL in each service's database, topics from their beginning")
        checked = time.monotonic()
        sent = findings.Sent(
            posted=tally.posted, accepted=dict(tally.accepted), redeliveries=tally.redeliveries,
            redeliveries_same_order=tally.redeliveries_same_order, skus=len(self.skus),
        )  # fmt: skip
        facts = await findings.gather_facts(
            self.stack.server_url, self.stack.bootstrap_servers, sent,
            prefix=self.stack.topic_prefix, read_s=min(60.0, max(10.0, self._left())),
        )  # fmt: skip
        if not quiesced:
            self.stuck = await findings.unfinished(self.stack.server_url, list(tally.accepted))
            for entry in self.stuck:
                self.say(f"[red]not shipped:[/] {entry}")
        self.durations["checks_s"] = time.monotonic() - checked
        facts |= {
            "quiesced": int(quiesced),
            "run_alive": int(self.stack.process.poll() is None),
            "faults_planned": len(self.plan),
            "faults_injected": sum(1 for i in self.injected if i.pid is not None),
            "faults_recovered": sum(
                1 for i in self.injected if i.intake_s is not None and i.ready_s is not None
            ),
            "unanswered": tally.unanswered,
            "probes": tally.probes,
            "dispatched": len(tally.dispatched),
        }
        return facts

    async def _warm_up(self) -> None:
        """One order through to its shipment before any fault: every consumer has joined its
        group (a member killed while its first join is pending is a start-up case, not this
        run's). It counts as one of the run's probes."""
        started = time.monotonic()
        order_id = await self.driver.one(probe=True, limit_s=min(WARM_UP_S, self._left()))
        while order_id is not None and time.monotonic() - started < WARM_UP_S:
            if await findings.shipment_requested(self.stack.server_url, order_id):
                self.say(
                    f"warm-up order through to its shipment in {time.monotonic() - started:.1f}s"
                )
                return
            await asyncio.sleep(0.5)
        self.say(f"[yellow]warm-up order not through to its shipment within {WARM_UP_S:g}s[/]")

    def _left(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    async def _progress(self, started: float) -> None:
        tally = self.driver.tally
        while True:
            await asyncio.sleep(PROGRESS_EVERY_S)
            refused = sum(tally.refused.values())
            self.say(
                f"{time.monotonic() - started:6.1f}s  orders {tally.posted - tally.probes}"
                f"/{self.cfg.orders} (+{tally.probes} probes)  2xx {len(tally.accepted)}"
                f"  duplicates {tally.redeliveries}  refused attempts {refused}  dispatched"
                f" {len(tally.dispatched)}  faults {len(self.injected)}/{len(self.plan)}"
            )

    async def _quiesce(self) -> bool:
        """Until every accepted order is shipped, nothing is pending, unsent or not yet consumed,
        and the inboxes stopped growing; bounded by the run's timeout, and given up after
        STALL_S without any change (an order stuck for good: the checks then say where)."""
        accepted = self.driver.tally.accepted
        previous: dict[str, int] | None = None
        moved = time.monotonic()
        while self._left() > 0:
            if time.monotonic() - moved > STALL_S:
                self.say(f"[red]quiescence: nothing moved for {STALL_S:g}s, giving up[/]")
                return False
            try:
                now = await findings.progress(self.stack.server_url, list(accepted))
            except Exception as exc:  # a database between restarts: ask again
                self.say(f"quiescence: {type(exc).__name__}, asking again")
                now = None
            if now is not None:
                done = (
                    now["review_shipped"] == len(accepted)
                    and now["outbox_unsent"] == 0
                    and now["pending_shipments"] == 0
                    and now["unconsumed"] == 0
                )
                if done and now == previous:
                    return True
                if now != previous:
                    moved = time.monotonic()
                previous = now
                self.say(
                    f"waiting for quiescence: shipped {now['review_shipped']}/{len(accepted)},"
                    f" pending shipments {now['pending_shipments']}, unsent events"
                    f" {now['outbox_unsent']}, events not yet consumed {now['unconsumed']}"
                )
            await asyncio.sleep(min(QUIET_POLL_S, self._left()))
        return False


def recovery_by_kind(injected: list[Injected]) -> dict[str, dict[str, float | int | None]]:
    """Per fault kind: how many, and the worst and mean seconds to intake 2xx and to ready."""
    out: dict[str, dict[str, float | int | None]] = {}
    for kind in FaultKind:
        mine = [i for i in injected if i.kind is kind]
        if not mine:
            continue
        row: dict[str, float | int | None] = {"count": len(mine)}
        for name, values in (
            ("intake_2xx", [i.intake_s for i in mine]),
            ("all_ready", [i.ready_s for i in mine]),
            ("pipeline", [i.pipeline_s for i in mine]),
        ):
            known = [v for v in values if v is not None]
            row[f"{name}_max_s"] = round(max(known), 2) if len(known) == len(values) else None
            row[f"{name}_mean_s"] = round(sum(known) / len(known), 2) if known else None
        out[str(kind)] = row
    return out


def run_chaos(cfg: ChaosConfig, console: Console) -> tuple[dict[str, Any], int]:
    """The whole run; (result, exit code): 0 when every check holds, 1 on any violation."""
    say = _sayer(console)
    temporary = cfg.state_dir is None
    state_dir = cfg.state_dir or Path(tempfile.mkdtemp(prefix="lvyue-chaos-"))
    creds = Credentials(
        webhook_secret=secrets.token_hex(16),
        ops_token=secrets.token_hex(16),
        warehouse_token=secrets.token_hex(16),
    )
    began, started_at = time.monotonic(), datetime.now(UTC)
    say(f"starting lvyue run (embedded PostgreSQL and broker) in {state_dir}")
    stack = start_stack(state_dir=state_dir, creds=creds, base_port=cfg.base_port)
    say(f"ready after {time.monotonic() - began:.1f}s: intake {stack.intake_url}")
    run = Run(cfg, stack, creds, say)
    try:
        facts = asyncio.run(run.go(state_dir / "state" / "pgdata"))
    finally:
        say("stopping lvyue run")
        code = stop_stack(stack)
    checks = evaluate(facts)
    bad = violations(checks)
    result: dict[str, Any] = {
        "started_at": started_at.isoformat(),
        "took_s": round(time.monotonic() - began, 1),
        "options": cfg.to_dict(),
        "planned": [f.to_dict() for f in run.plan],
        "injected": [i.to_dict() for i in run.injected],
        "recovery_by_kind": recovery_by_kind(run.injected),
        "checks": [c.to_dict() for c in checks],
        "facts": facts,
        "violations": [c.key for c in bad],
        "not_shipped": run.stuck,
        "ok": not bad,
        "durations_s": {k: round(v, 1) for k, v in run.durations.items()},
        "refused_attempts": dict(run.driver.tally.refused),
        "dispatch_refused": dict(run.driver.tally.dispatch_refused),
        "lvyue_run_exit": code,
        "log": str(stack.log_path),
    }
    render(console, result, checks)
    if cfg.json_path is not None:
        cfg.json_path.parent.mkdir(parents=True, exist_ok=True)
        cfg.json_path.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
        say(f"result: {cfg.json_path}")
    if temporary and not bad:
        shutil.rmtree(state_dir, ignore_errors=True)
    elif bad:
        say(f"[red]{len(bad)} violation(s); state and log kept in {state_dir}[/] (seed {cfg.seed})")
    return result, 1 if bad else 0


def _sayer(console: Console) -> Callable[[str], None]:
    began = time.monotonic()

    def say(line: str) -> None:
        console.print(f"[dim]chaos {time.monotonic() - began:6.1f}s[/] {line}", soft_wrap=True)

    return say


def _s(value: object) -> str:
    return "—" if value is None else f"{value:.1f}" if isinstance(value, float) else str(value)


def render(console: Console, result: dict[str, Any], checks: list[Check]) -> None:
    faults = Table(title="Faults injected (kill -9; kill -STOP for a hang)")
    for column in (
        "#",
        "kind",
        "target",
        "at s",
        "intake 2xx after s",
        "all ready after s",
        "order shipped after s",
        "note",
    ):
        faults.add_column(column)
    for n, row in enumerate(result["injected"], 1):
        faults.add_row(str(n), row["kind"], row["target"], _s(row["at_s"]),
                       _s(row["intake_2xx_s"]), _s(row["all_ready_s"]), _s(row["pipeline_s"]),
                       row["note"])  # fmt: skip
    console.print(faults)
    kinds = Table(title="Recovery per fault kind (seconds)")
    for column in ("kind", "count", "intake 2xx max", "mean", "all ready max", "mean",
                   "order shipped max", "mean"):  # fmt: skip
        kinds.add_column(column)
    for kind, row in result["recovery_by_kind"].items():
        kinds.add_row(kind, str(row["count"]), _s(row["intake_2xx_max_s"]),
                      _s(row["intake_2xx_mean_s"]), _s(row["all_ready_max_s"]),
                      _s(row["all_ready_mean_s"]), _s(row["pipeline_max_s"]),
                      _s(row["pipeline_mean_s"]))  # fmt: skip
    console.print(kinds)
    table = Table(title=f"Checks ({len(violations(checks))} violations)")
    for column in ("check", "figure", "expected", ""):
        table.add_column(column)
    for check in checks:
        mark = "[green]ok[/]" if check.ok else "[red]VIOLATION[/]"
        expected = "—" if check.expected is None else str(check.expected)
        table.add_row(
            check.title, _s(check.figure), expected, mark if check.expected is not None else ""
        )
    console.print(table)
    d = result["durations_s"]
    console.print(
        f"took {result['took_s']}s (driving {d.get('drive_s')}s, quiescence"
        f" {d.get('quiescence_s')}s, checks {d.get('checks_s')}s); refused attempts"
        f" {result['refused_attempts'] or 'none'}; lvyue run exit {result['lvyue_run_exit']}"
    )
