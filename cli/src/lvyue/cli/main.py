"""The `lvyue` command."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import httpx
import typer

from lvyue.cli import runtime
from lvyue.cli.bench.command import bench
from lvyue.cli.chaos.command import chaos
from lvyue.cli.demo.command import demo
from lvyue.cli.liveness import LivenessPolicy
from lvyue.cli.services import SERVICES, console_port, placements, process_urls
from lvyue.cli.supervisor import RestartPolicy
from lvyue.common.settings import DEV_TOKENS

app = typer.Typer(
    help="lvyue (履约): order-fulfilment services. `lvyue run` starts everything.",
    no_args_is_help=True,
    add_completion=False,
)

app.command()(bench)
app.command()(chaos)
app.command()(demo)

StateDir = Annotated[
    Path,
    typer.Option(envvar="LVYUE_STATE_DIR", help="Embedded PostgreSQL data and runtime state."),
]


@app.command()
def run(
    state_dir: StateDir = Path(".lvyue"),
    broker_port: Annotated[
        int, typer.Option(envvar="LVYUE_BROKER_PORT", help="Port of the embedded broker.")
    ] = 19092,
    host: Annotated[str, typer.Option(help="Interface the services listen on.")] = "127.0.0.1",
    base_port: Annotated[
        int | None, typer.Option(help="First service port (default: 8101, 8102, ...).")
    ] = None,
    restart_backoff: Annotated[
        float,
        typer.Option(
            envvar="LVYUE_RESTART_BACKOFF",
            help="Seconds before a crashed process is started again; doubles with each crash "
            "within --crash-window.",
        ),
    ] = 0.25,
    restart_backoff_max: Annotated[
        float,
        typer.Option(envvar="LVYUE_RESTART_BACKOFF_MAX", help="Longest wait before a restart."),
    ] = 8.0,
    crash_limit: Annotated[
        int,
        typer.Option(
            envvar="LVYUE_CRASH_LIMIT",
            help="Crashes of one process within --crash-window after which lvyue gives up and "
            "stops everything.",
        ),
    ] = 5,
    crash_window: Annotated[
        float,
        typer.Option(envvar="LVYUE_CRASH_WINDOW", help="Seconds over which crashes are counted."),
    ] = 60.0,
    liveness_failures: Annotated[
        int,
        typer.Option(
            envvar="LVYUE_LIVENESS_FAILURES",
            min=0,
            help="A service process that answered /livez and then misses this many answers in "
            "a row is hung: it is killed and started again (0: never probe).",
        ),
    ] = 3,
    liveness_interval: Annotated[
        float,
        typer.Option(
            envvar="LVYUE_LIVENESS_INTERVAL", min=0.1, help="Seconds between /livez probes."
        ),
    ] = 5.0,
    liveness_timeout: Annotated[
        float,
        typer.Option(
            envvar="LVYUE_LIVENESS_TIMEOUT", min=0.1, help="Seconds one /livez answer may take."
        ),
    ] = 3.0,
    start_timeout: Annotated[
        float,
        typer.Option(
            help="Seconds for every service to become ready at start (and for the embedded "
            "PostgreSQL, after an unclean stop, to finish its crash recovery)."
        ),
    ] = 120.0,
    probe_timeout: Annotated[
        float,
        typer.Option(help="Seconds one readiness probe may take before it is asked again."),
    ] = 5.0,
    replicas: Annotated[
        int,
        typer.Option(
            min=1,
            help="Processes of each kind per service. With 2 or more, the replicas of a "
            "service's API share its usual port and each also listens on its own port further "
            "up (see the banner); consumers share the topics' partitions.",
        ),
    ] = 1,
    clock_start: Annotated[
        str | None,
        typer.Option(
            help="Drill: run every service on one simulated clock that reads this time now "
            "(ISO 8601 with a UTC offset, e.g. 2026-11-11T00:00+08:00).",
        ),
    ] = None,
    clock_speed: Annotated[
        float,
        typer.Option(
            min=0.001,
            max=3600,
            help="With --clock-start: simulated seconds per real second (60: a day in 24 min).",
        ),
    ] = 1.0,
    clock_anchor: Annotated[
        str | None,
        typer.Option(
            help="With --clock-start: the real instant (ISO 8601 with offset) the simulated "
            "clock reads --clock-start; default: now.",
        ),
    ] = None,
    prometheus: Annotated[
        bool,
        typer.Option(
            envvar="LVYUE_PROMETHEUS",
            help="Also start the local Prometheus binary (Debian package prometheus, `make "
            "tools`) scraping every process and evaluating deploy/prometheus/rules, so alerts "
            "evaluate locally (config and data under --state-dir).",
        ),
    ] = False,
    prometheus_port: Annotated[
        int, typer.Option(help="Port of the local Prometheus (with --prometheus).")
    ] = 9090,
    console: Annotated[
        bool,
        typer.Option(
            help="Also serve the operators' web console (abnormal queue, pick list, after-sale "
            "cases, SLA board) on the port after the services' (8106, or --base-port + 5).",
        ),
    ] = True,
) -> None:
    """Start PostgreSQL, the broker and every service; Ctrl-C stops them in order.

    Embedded PostgreSQL and broker unless DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS are set.
    Every process it started is supervised: one that dies is started again alone (the embedded
    PostgreSQL on its data directory, the broker on its port with the outbox replayed).
    """
    opts = runtime.RuntimeOptions(
        state_dir=state_dir,
        broker_port=broker_port,
        http_host=host,
        base_port=base_port,
        restart=RestartPolicy(
            backoff_s=restart_backoff,
            backoff_max_s=restart_backoff_max,
            crash_limit=crash_limit,
            crash_window_s=crash_window,
        ),
        liveness=LivenessPolicy(
            interval_s=liveness_interval, timeout_s=liveness_timeout, failures=liveness_failures
        ),
        start_timeout_s=start_timeout,
        probe_timeout_s=probe_timeout,
        replicas=replicas,
        clock=_simulated_clock(clock_start, clock_speed, clock_anchor),
        prometheus_port=prometheus_port if prometheus else None,
        console=console,
    )
    raise typer.Exit(runtime.run(opts))


def _aware(value: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"not an ISO 8601 time: {value!r}", param_hint=option) from None
    if moment.tzinfo is None:
        raise typer.BadParameter(f"{value!r} needs a UTC offset, e.g. +08:00", param_hint=option)
    return moment


def _simulated_clock(
    start: str | None, speed: float, anchor: str | None
) -> runtime.SimulatedClockOptions | None:
    if start is None:
        if speed != 1.0 or anchor is not None:
            raise typer.BadParameter(
                "needs --clock-start", param_hint="--clock-speed/--clock-anchor"
            )
        return None
    return runtime.SimulatedClockOptions(
        start=_aware(start, "--clock-start"),
        speed=speed,
        anchor=_aware(anchor, "--clock-anchor") if anchor else datetime.now(UTC),
    )


@app.command()
def migrate(
    database_url: Annotated[
        str,
        typer.Option(
            envvar="DATABASE_URL",
            help="The PostgreSQL server (any database on it): each service's database "
            "(lvyue_order_review, ...) is made there, unless <SERVICE>_DATABASE_URL (e.g. "
            "ORDER_REVIEW_DATABASE_URL) names its own.",
        ),
    ],
) -> None:
    """Create each service's database if missing and migrate it to the latest schema.

    Each database is lvyue_<service> on the --database-url server, or the one
    <SERVICE>_DATABASE_URL names (ORDER_REVIEW_DATABASE_URL, INVENTORY_DATABASE_URL,
    FULFILMENT_DATABASE_URL, AFTERSALES_DATABASE_URL).
    """

    async def upgrade_all() -> None:
        from lvyue.common.db import ensure_database
        from lvyue.common.migrate import migrate as migrate_database

        for spec in SERVICES:
            url = runtime.service_database_url(spec, database_url)
            await ensure_database(url)
            await migrate_database(url, spec.migrations)
            typer.echo(f"{spec.database}: migrated")

    asyncio.run(upgrade_all())


@app.command()
def status(
    host: Annotated[str, typer.Option(help="Where the services listen.")] = "127.0.0.1",
    base_port: Annotated[
        int | None, typer.Option(help="First service port (default: 8101, 8102, ...).")
    ] = None,
    interval: Annotated[float, typer.Option(help="Seconds between refreshes.")] = 2.0,
    once: Annotated[bool, typer.Option("--once", help="Print one snapshot and exit.")] = False,
) -> None:
    """Live SLA compliance and deadlines per SLA, event flow, dead letters, intake per shop.

    Per SLA: compliance over the services' window, met, breached, open, at risk, overdue and
    will breach (the breach forecast). Per service: outbox backlog, oldest unsent event,
    consumer lag and dead letters waiting. Per shop whose orders are pulled: the last
    notification, notifications to fetch, the last pull, its lag, the share of orders pushes
    missed and how long pulls have failed.
    """
    from rich.console import Console

    from lvyue.cli.status import render, scrape, watch

    targets = process_urls(host, base_port)
    if once:
        Console().print(render(scrape(targets)))
        return
    with contextlib.suppress(KeyboardInterrupt):
        watch(targets, interval_s=interval, iterations=None)


@app.command("dead-letters")
def dead_letters(
    service: Annotated[
        list[str] | None,
        typer.Option("--service", help="Only this service (repeatable; default: all four)."),
    ] = None,
    consumer: Annotated[str | None, typer.Option(help="Only this consumer's.")] = None,
    redrive: Annotated[
        int | None,
        typer.Option(help="Republish the dead letter of this id (with one --service)."),
    ] = None,
    redrive_waiting: Annotated[
        bool,
        typer.Option(
            "--redrive-waiting", help="Republish every one waiting, once its cause is fixed."
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Republish even dead letters parked longer ago than the consumers' inboxes "
            "remember (LVYUE_INBOX_RETENTION_DAYS less a day): those that took the event then "
            "apply it again.",
        ),
    ] = False,
    token: Annotated[
        str,
        typer.Option(envvar="LVYUE_SRE_TOKEN", help="A bearer token with the sre role."),
    ] = DEV_TOKENS["sre"][0],
    operator: Annotated[
        str | None,
        typer.Option(envvar="USER", help="Who acts (X-Operator, kept with each redrive)."),
    ] = None,
    host: Annotated[str, typer.Option(help="Where the services listen.")] = "127.0.0.1",
    base_port: Annotated[
        int | None, typer.Option(help="First service port (default: 8101, 8102, ...).")
    ] = None,
) -> None:
    """Messages the consumers parked after their last attempt, and republishing them.

    Lists those waiting; `--redrive ID --service S` republishes one, `--redrive-waiting` all
    (fix the cause first: the consumer that parked one takes it again, and parks it anew if it
    fails again; consumers that took it before skip it by its event id).
    """
    from rich.console import Console

    from lvyue.cli import dead_letters as letters

    console = Console()
    desk = letters.Desk(host, base_port, token, operator)
    try:
        services_chosen = letters.service_names(service or [])
        if redrive is not None:
            if len(services_chosen) != 1:
                raise typer.BadParameter("--redrive needs one --service", param_hint="--redrive")
            with desk.client() as client:
                answer = letters.redrive(client, desk.url(services_chosen[0]), redrive, force=force)
            state = "republished" if answer["republished"] else "already republished"
            console.print(f"{services_chosen[0]} #{redrive}: {state}")
        elif redrive_waiting:
            done = letters.redrive_waiting(desk, services_chosen, consumer, console, force=force)
            console.print(f"{done.sent} republished")
            if done.refused:
                console.print(f"[bold red]{done.refused} refused as too old (see --force)[/]")
                raise typer.Exit(1)
        else:
            letters.listing(desk, services_chosen, consumer, console)
    except (letters.DeadLetterError, httpx.HTTPError) as exc:
        console.print(f"[bold red]{exc}[/]")
        raise typer.Exit(1) from None


@app.command()
def services() -> None:
    """List the processes `lvyue run` starts and their default ports.

    order-review runs as two processes of one module: its API and intake, and its consumers,
    outbox relay, deadline scanner and jobs (`lvyue run` sets which with LVYUE_* variables).
    The console calls the services' APIs.
    """
    rows = [(p.name, p.spec.module, p.port) for p in placements(None)]
    rows.append(("console", "lvyue.console", console_port(None)))
    width = max(len(name) for name, _, _ in rows)
    for name, module, port in rows:
        typer.echo(f"{name:<{width}} python -m {module:<22} port {port}")
