"""What the processes cost while a phase runs: CPU seconds and peak memory per process group
(psutil), and the outbox backlog and consumer lag peaks from each service's /metrics.

Groups: each service (its process and children), the broker, PostgreSQL (postmaster and
backends), the bench itself (load generator and Kafka follower, not its children) and `lvyue
run`'s supervisor (not its children, each counted in its group). The last two are shown, not
summed with the system: the bench is the load, and a deployment has no `lvyue run`.

CPU is read at the start and the end of the phase: a group's root, what it has reaped of its
children (a backend that lived and died within the phase included) and its live descendants.
Memory is sampled every 0.5 s: the RSS summed over a group's processes, except for PostgreSQL,
whose backends share the buffer cache that RSS would count once per backend: there it is the
PSS (shared pages split between the processes that map them), every 2 s.

The bench shares the machine with what it measures, so sampling is kept cheap: a group's
processes are listed again every 2 s, not at each sample (listing walks all of /proc); PSS
(the kernel walks each backend's page tables) and the /metrics scrapes (only the two gauges
read here, `name[]`) every 2 s. Sampled that way, the bench took 0.17 cores of the two while
the pipeline ran flat out, and each service rendered its whole /metrics about once a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import time
from dataclasses import dataclass, field

import httpx
import psutil

from lvyue.cli.bench.report import MIB, cpu_ms_per_order, total_cpu_ms_per_order
from lvyue.cli.services import SERVICES
from lvyue.cli.status import Snapshot, add_metrics

INTERVAL_S = 0.5  # RSS
SLOW_INTERVAL_S = 2.0  # process lists, PSS, /metrics
SCRAPED = ("lvyue_outbox_backlog", "lvyue_consumer_lag_messages")
BENCH = "bench"
SUPERVISOR = "lvyue run"
OUTSIDE = frozenset({BENCH, SUPERVISOR})  # shown, but not what the system costs
POSTGRES = "postgres"  # measured by PSS


def _service_of(cmdline: list[str], environ: dict[str, str]) -> str | None:
    """The process's name as `lvyue run` calls it: a service, or a service's consumers."""
    for spec in SERVICES:
        if spec.module in cmdline and "-m" in cmdline:
            split = spec.consumers_default_port is not None
            if split and environ.get("LVYUE_CONSUMERS_ENABLED") != "false":
                return f"{spec.name} consumers"
            return spec.name
    return None


def _environ(process: psutil.Process) -> dict[str, str]:
    with contextlib.suppress(psutil.Error):
        return dict(process.environ())
    return {}


def discover(
    run_pid: int | None, postmaster_pid: int | None, *, extra: dict[int, str] | None = None
) -> dict[str, list[int]]:
    """Process ids per group: services by their `-m` module, the broker, PostgreSQL, the bench."""
    groups: dict[str, list[int]] = {BENCH: [os.getpid()]}
    if run_pid is not None:
        groups[SUPERVISOR] = [run_pid]
        with contextlib.suppress(psutil.Error):
            for child in psutil.Process(run_pid).children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    cmdline = child.cmdline()
                    name = _service_of(cmdline, _environ(child)) or (
                        "broker" if "--listener-url" in cmdline else None
                    )
                    if name is not None:
                        groups.setdefault(name, []).append(child.pid)
    if postmaster_pid is not None:
        groups[POSTGRES] = [postmaster_pid]
    for pid, name in (extra or {}).items():
        groups.setdefault(name, []).append(pid)
    return groups


@dataclass
class GroupUsage:
    cpu_s: float = 0.0
    peak_rss_mib: float = 0.0
    processes: int = 0


@dataclass
class PhaseSample:
    processes: dict[str, GroupUsage] = field(default_factory=dict)
    peak_backlog: dict[str, float] = field(default_factory=dict)
    peak_lag: dict[str, float] = field(default_factory=dict)
    scrapes: int = 0
    scrape_failures: int = 0
    duration_s: float = 0.0

    def idle_cores(self) -> dict[str, float]:
        """CPU per second of wall time per group: what each costs doing nothing, at idle."""
        return {n: u.cpu_s / self.duration_s for n, u in self.processes.items() if self.duration_s}

    def to_dict(
        self, *, orders: int = 0, idle: dict[str, float] | None = None
    ) -> dict[str, object]:
        """With `orders`, each group's CPU per order after its idle cost is taken out, and
        the total over every group but those OUTSIDE (the system under test and its servers)."""
        idle = idle or {}
        processes = {
            name: {"cpu_s": round(u.cpu_s, 2), "peak_rss_mib": round(u.peak_rss_mib, 1),
                   "processes": u.processes,
                   "cpu_ms_per_order": cpu_ms_per_order(
                       u.cpu_s, idle.get(name, 0.0), self.duration_s, orders)}
            for name, u in self.processes.items()
        }  # fmt: skip
        measured = {name: stats for name, stats in processes.items() if name not in OUTSIDE}
        return {
            "duration_s": round(self.duration_s, 2),
            "processes": processes,
            "total": {
                "cpu_s": round(
                    sum(u.cpu_s for n, u in self.processes.items() if n not in OUTSIDE), 2
                ),
                "cpu_ms_per_order": total_cpu_ms_per_order(
                    {name: stats["cpu_ms_per_order"] for name, stats in measured.items()}
                ),
            },
            "peak_outbox_backlog": self.peak_backlog,
            "peak_consumer_lag": self.peak_lag,
            "metrics_scrapes": self.scrapes,
            "metrics_scrape_failures": self.scrape_failures,
        }


class Group:
    """A process group's roots; `include_children` False counts the roots alone."""

    def __init__(self, pids: list[int], *, include_children: bool, pss: bool) -> None:
        self.roots = [p for p in (_process(pid) for pid in pids) if p is not None]
        self.include_children = include_children
        self.pss = pss
        self.last_cpu = 0.0
        self._listed: list[psutil.Process] = []

    def processes(self) -> list[psutil.Process]:
        """The roots and, with children, their descendants now."""
        procs: list[psutil.Process] = []
        for root in self.roots:
            procs.append(root)
            if self.include_children:
                with contextlib.suppress(psutil.Error):
                    procs += root.children(recursive=True)
        self._listed = procs
        return procs

    def cpu(self) -> float:
        """CPU seconds so far: roots, their reaped children, live descendants."""
        total = 0.0
        for root in self.roots:
            with contextlib.suppress(psutil.Error):
                times = root.cpu_times()
                total += times.user + times.system
                if self.include_children:
                    total += times.children_user + times.children_system
                    for child in root.children(recursive=True):
                        with contextlib.suppress(psutil.Error):
                            child_times = child.cpu_times()
                            total += child_times.user + child_times.system
        self.last_cpu = max(self.last_cpu, total)  # a root gone keeps what it had used
        return self.last_cpu

    def memory(self, *, relist: bool = True) -> tuple[int, int]:
        """(bytes, processes) now; without `relist`, over the processes last listed (a process
        gone since then is passed by)."""
        procs = self.processes() if relist or not self._listed else self._listed
        used = 0
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                info = proc.memory_full_info() if self.pss else proc.memory_info()
                used += int(info.pss if self.pss else info.rss)
        return used, len(procs)


def _process(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


class Sampler:
    """`async with Sampler(...) as sampler:` ... `sampler.result` once the block is left."""

    def __init__(self, groups: dict[str, list[int]], metrics_urls: dict[str, str]) -> None:
        self._groups = {
            # Their children are the system under test, counted in their own groups.
            name: Group(pids, include_children=name not in OUTSIDE, pss=name == POSTGRES)
            for name, pids in groups.items()
        }
        self._metrics_urls = metrics_urls
        self._cpu_start: dict[str, float] = {}
        self.result = PhaseSample()
        self._task: asyncio.Task[None] | None = None
        self._started = 0.0

    async def __aenter__(self) -> Sampler:
        self._started = time.monotonic()
        for name, group in self._groups.items():
            self._cpu_start[name] = group.cpu()
            self.result.processes[name] = GroupUsage()
        self._task = asyncio.create_task(self._loop())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._sample_memory()
        self.result.duration_s = time.monotonic() - self._started
        for name, group in self._groups.items():
            self.result.processes[name].cpu_s = group.cpu() - self._cpu_start[name]

    def _sample_memory(self, *, slow: bool = True) -> None:
        """Every group's memory; unless `slow`, RSS alone over the processes last listed."""
        for name, group in self._groups.items():
            if group.pss and not slow:
                continue
            usage = self.result.processes[name]
            used, count = group.memory(relist=slow)
            usage.peak_rss_mib = max(usage.peak_rss_mib, used / MIB)
            usage.processes = max(usage.processes, count)

    async def _scrape(self, client: httpx.AsyncClient) -> None:
        for name, url in self._metrics_urls.items():
            snap = Snapshot()
            try:
                response = await client.get(f"{url}/metrics", params={"name[]": SCRAPED})
                add_metrics(snap, name, response.text)
            except (httpx.HTTPError, ValueError):
                self.result.scrape_failures += 1
                continue
            self.result.scrapes += 1
            backlog, lag = self.result.peak_backlog, self.result.peak_lag
            backlog[name] = max(backlog.get(name, 0.0), snap.backlog.get(name, 0.0))
            lag[name] = max(lag.get(name, 0.0), snap.lag.get(name, 0.0))

    async def _loop(self) -> None:
        slow_every = round(SLOW_INTERVAL_S / INTERVAL_S)
        async with httpx.AsyncClient(timeout=2.0) as client:
            for tick in itertools.count():
                slow = tick % slow_every == 0
                self._sample_memory(slow=slow)
                if slow:
                    await self._scrape(client)
                await asyncio.sleep(INTERVAL_S)
