"""What one `lvyue bench` run does, with the full and the --quick defaults."""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from lvyue.cli.bench.report import LATENCY_RATE

MAX_RATE_GUESS = 3000  # webhooks/s no 2-core machine reaches: only sizes the stock
GENERATORS = ("wrk", "python")


def default_generator() -> str:
    """wrk when installed: the Python generator takes about a core of the two itself."""
    return "wrk" if shutil.which("wrk") else "python"


@dataclass(frozen=True)
class BenchConfig:
    duration_s: float = 30.0
    rate: float = 0.0  # webhooks/s, 0 = as fast as the service answers
    concurrency: int = 32  # per replica unless given: see resolve
    orders: int = 1_000_000  # at most, per load phase
    latency_rate: float = LATENCY_RATE  # a second lvyue phase at this rate; 0 = none
    skus: int = 200
    drain_timeout_s: float = 120.0
    skip_ceiling: bool = False
    skip_scanner: bool = False
    scanner_deadlines: int = 1_000_000
    scanner_due: int = 100_000
    scanner_window_s: float = 60.0
    skip_console: bool = False
    console_orders: int = 10_000  # abnormal orders in the queue while the pages are timed
    console_requests: int = 100  # timed requests per page
    output: Path | None = None
    state_dir: Path = Path(".lvyue/bench")
    database_url: str | None = None
    kafka: str | None = None
    generator: str = field(default_factory=default_generator)
    quick: bool = False
    replicas: int = 1  # lvyue run --replicas: processes of each kind per service
    cores_per_replica: float = 0.0  # each replica's processes held to this many cores; 0 = off

    def __post_init__(self) -> None:
        if self.duration_s <= 0 or self.concurrency < 1 or self.orders < 1 or self.skus < 1:
            raise ValueError("duration, concurrency, orders and skus must be positive")
        if self.replicas < 1:
            raise ValueError("--replicas must be at least 1")
        if self.cores_per_replica < 0:
            raise ValueError("--cores-per-replica cannot be negative")
        if self.rate < 0 or self.latency_rate < 0:
            raise ValueError("rates cannot be negative")
        if self.console_orders < 1 or self.console_requests < 1:
            raise ValueError("--console-orders and --console-requests must be positive")
        if not 0 < self.scanner_due <= self.scanner_deadlines:
            raise ValueError("--scanner-due must lie between 1 and --scanner-deadlines")
        if self.generator not in GENERATORS:
            raise ValueError(f"--generator must be one of {', '.join(GENERATORS)}")
        if self.generator == "wrk":
            self._check_wrk()

    def _check_wrk(self) -> None:
        # wrk.py imports the services' code: only a run that uses it pays for the import.
        from lvyue.cli.bench.wrk import max_duration_s, wrk_binary

        if wrk_binary() is None:
            raise ValueError("wrk is not installed (apt-get install wrk), use --generator python")
        if self.duration_s > max_duration_s():
            raise ValueError(
                f"--generator wrk replays webhooks signed before the phase: --duration at most "
                f"{max_duration_s():g} s (or --generator python)"
            )

    @property
    def output_path(self) -> Path:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        return self.output or Path("bench-results") / f"{stamp}.json"

    @property
    def load_phases(self) -> int:
        # the throughput phase; the latency phase; intake alone, part of the ceiling
        return 1 + (1 if self.latency_rate > 0 else 0) + (0 if self.skip_ceiling else 1)

    def stock_units(self) -> int:
        """Units per SKU so no order of the run can be short (3 lines of 3 units at most)."""
        per_phase = min(self.orders, (self.rate or MAX_RATE_GUESS) * self.duration_s)
        orders = per_phase * self.load_phases
        return max(1000, math.ceil(2 * orders * 9 / self.skus))

    def to_dict(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["output"] = str(self.output) if self.output else None
        values["state_dir"] = str(self.state_dir)
        if self.database_url:  # its password stays out of the report
            values["database_url"] = make_url(self.database_url).render_as_string()
        return values


QUICK: dict[str, Any] = {
    "duration_s": 5.0,
    "rate": 50.0,
    "concurrency": 8,
    "orders": 500,
    "latency_rate": 0.0,
    "skus": 20,
    "drain_timeout_s": 30.0,
    "scanner_deadlines": 20_000,
    "scanner_due": 2_000,
    "scanner_window_s": 5.0,
    "console_orders": 300,
    "console_requests": 20,
}


def resolve(given: dict[str, Any], *, quick: bool) -> BenchConfig:
    """Defaults (full or --quick) overridden by what the user gave (None = not given)."""
    base = replace(BenchConfig(), **QUICK, quick=True) if quick else BenchConfig()
    chosen = {k: v for k, v in given.items() if v is not None}
    if "concurrency" not in chosen and chosen.get("replicas", 1) > 1:
        # Each replica offered what one is offered alone: scale-out compares like with like.
        chosen["concurrency"] = base.concurrency * chosen["replicas"]
    return replace(base, **chosen)
