"""`lvyue chaos`: the typer command; options to a ChaosConfig, the run, its exit code."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from lvyue.cli.chaos.faults import parse_faults

DEFAULT_FAULTS = "service=1,postgres=1,broker=1"


def chaos(
    orders: Annotated[int, typer.Option(min=1, help="Signed orders to drive.")] = 1000,
    duplicate_rate: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Share of orders delivered a second time once answered (half with the same "
            "delivery id, half with a new one): each must answer 2xx with the same order id.",
        ),
    ] = 0.1,
    seed: Annotated[
        int, typer.Option(help="Seeds the fault schedule, the targets, the orders, duplicates.")
    ] = 1,
    faults: Annotated[
        str,
        typer.Option(
            help="kill -9 to inject, as kind=count: service (a service process), postgres "
            "(the embedded PostgreSQL), broker (the embedded broker), hang (kill -STOP of a "
            "service process: lvyue run's /livez probes restart it); `none` for none. One at a "
            "time, at seeded random times; the next waits until intake answers 2xx and every "
            "/readyz 200 again (and, with the default --wait-for-pipeline, until an order "
            "posted after the kill has its shipment).",
        ),
    ] = DEFAULT_FAULTS,
    rate: Annotated[
        float, typer.Option(min=0.0, help="Orders per second; 0 = as fast as answers come.")
    ] = 20.0,
    concurrency: Annotated[int, typer.Option(min=1, help="Webhooks in flight at most.")] = 8,
    warm_up: Annotated[
        bool,
        typer.Option(
            help="First one order through to its shipment, so every consumer has joined its "
            "group before any fault; --no-warm-up lets faults hit consumers still joining.",
        ),
    ] = True,
    wait_for_pipeline: Annotated[
        bool,
        typer.Option(
            help="After each kill, wait until an order posted after it has its shipment (every "
            "consumer back) before the next kill; --no-wait-for-pipeline waits only for intake "
            "2xx and every /readyz 200, so a kill may hit consumers still rejoining.",
        ),
    ] = True,
    timeout: Annotated[
        float,
        typer.Option(
            min=10.0,
            help="Seconds for driving, faults and quiescence together; the checks follow.",
        ),
    ] = 900.0,
    base_port: Annotated[
        int | None,
        typer.Option(help="First service port of the run under test (default: free ports)."),
    ] = None,
    state_dir: Annotated[
        Path | None,
        typer.Option(
            help="The run's state (PostgreSQL data, logs), wiped at start; default: a temporary "
            "folder, removed after a run without violations."
        ),
    ] = None,
    json_output: Annotated[
        Path | None, typer.Option("--json", help="Write the result (figures, faults) as JSON here.")
    ] = None,
) -> None:
    """Fault injection: kill -9 services, PostgreSQL and the broker under load, then check.

    Starts the embedded system as `lvyue run` does (own ports, own state), stocks SKUs, drives
    signed orders with duplicate deliveries (loopback only, bounded concurrency), kills one
    process at a time at seeded random times, confirms dispatches as a warehouse would, waits
    for quiescence, then checks with SQL in each service's database and by reading the topics:
    every 2xx'd order exactly once in each service, stock arithmetic, one shipment and one
    order.shipped per order, no deadline or breach twice, no dead letters. Prints what it
    injected, the recovery times and each check's figure; exits 1 on any violation.
    """
    from lvyue.cli.chaos.runner import ChaosConfig, run_chaos

    try:
        counts = parse_faults(faults)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--faults") from exc
    cfg = ChaosConfig(
        orders=orders,
        duplicate_rate=duplicate_rate,
        seed=seed,
        faults=counts,
        timeout_s=timeout,
        rate=rate,
        concurrency=concurrency,
        warm_up=warm_up,
        wait_for_pipeline=wait_for_pipeline,
        base_port=base_port,
        state_dir=state_dir,
        json_path=json_output,
    )
    console = Console(width=None if sys.stdout.isatty() else 140)
    _, code = run_chaos(cfg, console)
    raise typer.Exit(code)
