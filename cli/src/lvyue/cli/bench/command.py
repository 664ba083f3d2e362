"""`lvyue bench`: the typer command; options to a BenchConfig, the run, the report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from lvyue.cli.bench.config import BenchConfig, resolve

Full = BenchConfig()


def bench(
    duration: Annotated[
        float | None,
        typer.Option(help=f"Seconds of load per phase. (default {Full.duration_s:g}; quick 5)"),
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option(
            help="Target webhooks/s of the main phase and the minimal receiver; 0 = as fast as "
            "answers come. (default 0; quick 50)"
        ),
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            help=f"Requests in flight at most (HTTP connections; raw writers). "
            f"(default {Full.concurrency} per replica; quick 8 per replica)"
        ),
    ] = None,
    orders: Annotated[
        int | None,
        typer.Option(help="Webhooks per phase at most. (default 1000000; quick 500)"),
    ] = None,
    latency_rate: Annotated[
        float | None,
        typer.Option(
            help="A second lvyue phase at this rate, for the end-to-end p99 target; 0 = none. "
            f"(default {Full.latency_rate:g}; quick 0)"
        ),
    ] = None,
    skus: Annotated[
        int | None, typer.Option(help="SKUs stocked and ordered. (default 200; quick 20)")
    ] = None,
    drain_timeout: Annotated[
        float | None,
        typer.Option(
            help="Seconds to wait for the last orders after the load. (default 120; quick 30)"
        ),
    ] = None,
    skip_ceiling: Annotated[
        bool, typer.Option("--skip-ceiling", help="No raw-asyncpg / minimal-receiver ceiling.")
    ] = False,
    skip_scanner: Annotated[
        bool, typer.Option("--skip-scanner", help="No deadline scanner bench.")
    ] = False,
    scanner_deadlines: Annotated[
        int | None,
        typer.Option(help="Open deadlines in the scanner bench. (default 1000000; quick 20000)"),
    ] = None,
    scanner_due: Annotated[
        int | None,
        typer.Option(help="How many of them fall due. (default 100000; quick 2000)"),
    ] = None,
    scanner_window: Annotated[
        float | None,
        typer.Option(help="Seconds over which they fall due. (default 60; quick 5)"),
    ] = None,
    skip_console: Annotated[
        bool, typer.Option("--skip-console", help="No console pages bench.")
    ] = False,
    console_orders: Annotated[
        int | None,
        typer.Option(
            help="Abnormal orders in the queue while the console's pages are timed. "
            "(default 10000; quick 300)"
        ),
    ] = None,
    console_requests: Annotated[
        int | None,
        typer.Option(help="Timed requests per console page. (default 100; quick 20)"),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(help="JSON report. (default bench-results/<timestamp>.json)"),
    ] = None,
    state_dir: Annotated[
        Path, typer.Option(help="The bench's own `lvyue run` state (wiped at each run).")
    ] = Full.state_dir,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="Use this PostgreSQL server instead of an embedded one (lvyue_* databases are "
            "created on it; lvyue_bench_* scratch databases are dropped after use).",
        ),
    ] = None,
    kafka: Annotated[
        str | None,
        typer.Option("--kafka", help="Use these Kafka bootstrap servers instead of embedded."),
    ] = None,
    generator: Annotated[
        str | None,
        typer.Option(
            "--generator",
            help="Load generator: wrk (pre-signed webhooks replayed by the `wrk` binary) or "
            "python (httpx, about 2 ms of CPU per request). (default wrk when installed)",
        ),
    ] = None,
    replicas: Annotated[
        int | None,
        typer.Option(
            help="Processes of each kind per service (lvyue run --replicas): load goes to the "
            "replicas' shared port, CPU is summed per service. (default 1)"
        ),
    ] = None,
    cores_per_replica: Annotated[
        float | None,
        typer.Option(
            help="Hold each replica's service processes to this many cores (Linux cgroups, as "
            "a container's CPU limit; needs root): one replica and N replicas then compare per "
            "core on one machine. PostgreSQL and the broker stay unlimited. (default 0 = off)"
        ),
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="A small smoke run: defaults marked 'quick'.")
    ] = False,
) -> None:
    """Measure throughput, latency and memory against this machine's own ceiling.

    Starts `lvyue run` on free ports (embedded PostgreSQL and broker unless --database-url /
    --kafka), stocks the SKUs through the inventory API, posts signed `lvyue` order webhooks
    and follows every order on Kafka to its last event: once at --rate, once paced at
    --latency-rate for the end-to-end p99. Then, with the pipeline's processes paused, a
    minimal FastAPI receiver doing the intake transaction and intake alone, one after the
    other; on the same PostgreSQL, that transaction with raw asyncpg (with the receiver: the
    ceiling; --skip-ceiling skips these), and the deadline scanner with many open deadlines;
    then the console's pages with many abnormal orders queued. Writes a JSON report and prints
    the tables, targets included.
    """
    from lvyue.cli.bench.render import render
    from lvyue.cli.bench.runner import run_bench

    try:
        cfg = resolve(
            {
                "duration_s": duration, "rate": rate, "concurrency": concurrency,
                "orders": orders, "latency_rate": latency_rate, "skus": skus,
                "drain_timeout_s": drain_timeout, "skip_ceiling": skip_ceiling or None,
                "skip_scanner": skip_scanner or None, "scanner_deadlines": scanner_deadlines,
                "scanner_due": scanner_due, "scanner_window_s": scanner_window,
                "skip_console": skip_console or None, "console_orders": console_orders,
                "console_requests": console_requests,
                "output": output, "state_dir": state_dir, "database_url": database_url,
                "kafka": kafka, "generator": generator, "replicas": replicas,
                "cores_per_replica": cores_per_replica,
            },
            quick=quick,
        )  # fmt: skip
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    # Piped output (CI, files) gets room for the tables instead of rich's 80 columns.
    console = Console(width=None if sys.stdout.isatty() else 140)
    report, path = run_bench(cfg, console)
    console.print(render(report))
    console.print(f"report: {path}")
