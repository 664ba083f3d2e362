"""`lvyue run`: databases, topics and migrations, then each service as its own process.

Supervises what it started: a process that dies (a service, PostgreSQL, the broker) is started
again alone, with backoff, until it crashes too often. Stops in order on Ctrl-C: services first
(intake closes, consumers finish, relays drain), then the broker, then PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy import text

from lvyue.cli.embedded import (
    BROKER_FETCH_MAX_WAIT_MS,
    BROKER_NUDGE_QUIET_MS,
    BROKER_OFFSET_GAP_WAIT_MS,
    EmbeddedBroker,
    EmbeddedPostgres,
    PortInUseError,
    describe_exit,
    free_port,
    port_in_use,
)
from lvyue.cli.liveness import LivenessPolicy, LivenessWatch
from lvyue.cli.readiness import NotReadyError, check_service_ports, wait_ready
from lvyue.cli.sandbox import SANDBOX_CARRIER_CODES, platform_apis
from lvyue.cli.services import SERVICES, ServiceSpec, console_port, placements
from lvyue.cli.sidecars import (
    ChildProcess,
    console_process,
    prometheus_binary,
    prometheus_process,
    sandbox_process,
)
from lvyue.cli.supervisor import (
    BrokerUnit,
    CrashLoopError,
    Interrupts,
    PostgresUnit,
    RestartPolicy,
    Supervisor,
    Unit,
)
from lvyue.common.db import ensure_database, make_engine, with_database
from lvyue.common.events import all_topics
from lvyue.common.kafka import ensure_topics
from lvyue.common.migrate import migrate
from lvyue.common.replay import replay_unconsumed
from lvyue.common.settings import DEV_TOKENS, DEV_WEBHOOK_SECRET, KernelSettings
from lvyue.common.webhooks import relaying
from lvyue.order_review.platforms import ADAPTERS

console = Console(stderr=True)

EPOCH_FILE = "broker-epoch.json"


@dataclass
class RuntimeOptions:
    state_dir: Path
    broker_port: int
    http_host: str
    base_port: int | None
    database_url: str | None = field(default_factory=lambda: os.environ.get("DATABASE_URL"))
    kafka: str | None = field(default_factory=lambda: os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))
    restart: RestartPolicy = field(default_factory=RestartPolicy)
    liveness: LivenessPolicy = field(default_factory=LivenessPolicy)  # a hung service's restart
    start_timeout_s: float = 120.0  # all services ready, from their start
    probe_timeout_s: float = 5.0  # one /readyz answer: slow under load, not a failure
    replicas: int = 1  # processes per service process (API, consumers): see services.placements
    clock: SimulatedClockOptions | None = None  # a drill's shared simulated clock
    prometheus_port: int | None = None  # start a local Prometheus there (needs the binary)
    console: bool = True  # the operators' web console, on services.console_port


@dataclass(frozen=True)
class SimulatedClockOptions:
    """Every service reads `start` at the real instant `anchor`, `speed` times as fast."""

    start: datetime
    anchor: datetime
    speed: float

    def env(self) -> dict[str, str]:
        return {
            "LVYUE_CLOCK_START": self.start.isoformat(),
            "LVYUE_CLOCK_ANCHOR": self.anchor.isoformat(),
            "LVYUE_CLOCK_SPEED": repr(self.speed),
        }


DEFAULT_TOPIC_PARTITIONS: int = KernelSettings.model_fields["topic_partitions"].default


@dataclass
class Infrastructure:
    """Where PostgreSQL and the broker are, and who must stop them."""

    server_url: str
    bootstrap_servers: str
    postgres: EmbeddedPostgres | None = None
    broker: EmbeddedBroker | None = None
    topic_partitions: int = DEFAULT_TOPIC_PARTITIONS

    @property
    def embedded_broker(self) -> bool:
        return self.broker is not None

    def stop(self) -> None:
        if self.broker is not None:
            console.print("stopping broker")
            self.broker.stop()
        if self.postgres is not None:
            console.print("stopping PostgreSQL")
            self.postgres.stop()


def plan_infrastructure(opts: RuntimeOptions) -> Infrastructure:
    """What is embedded, before anything starts: a start cut short still stops what it began."""
    infra = Infrastructure(server_url=opts.database_url or "", bootstrap_servers=opts.kafka or "")
    if not opts.database_url:
        infra.postgres = EmbeddedPostgres(
            opts.state_dir / "pgdata", start_timeout_s=opts.start_timeout_s
        )
    if not opts.kafka:
        infra.broker = EmbeddedBroker(port=opts.broker_port, log_path=opts.state_dir / "broker.log")
    infra.topic_partitions = topic_partitions(opts, embedded_broker=infra.embedded_broker)
    return infra


# The embedded broker's CPU grows with the partitions each fetch names, records or not (idle,
# measured: 0.18 cores with six per topic, 0.09 with two; one saves no more).
EMBEDDED_TOPIC_PARTITIONS = 2


def topic_partitions(opts: RuntimeOptions, *, embedded_broker: bool) -> int:
    """LVYUE_TOPIC_PARTITIONS when set; on the embedded broker, enough for each replica's
    consumers to hold one; else the services' default."""
    if configured := os.environ.get("LVYUE_TOPIC_PARTITIONS"):
        return int(configured)
    if embedded_broker:
        return max(EMBEDDED_TOPIC_PARTITIONS, opts.replicas)
    return DEFAULT_TOPIC_PARTITIONS


def start_infrastructure(opts: RuntimeOptions, infra: Infrastructure) -> None:
    opts.state_dir.mkdir(parents=True, exist_ok=True)
    if infra.postgres is not None:
        infra.server_url = infra.postgres.start()
        console.print(f"PostgreSQL (embedded, data in {opts.state_dir / 'pgdata'}) ready")
    if infra.broker is not None:
        infra.bootstrap_servers = infra.broker.start()
        console.print(f"broker (embedded Tansu, in memory) on {infra.bootstrap_servers}")


def service_database_url(spec: ServiceSpec, server_url: str) -> str:
    return os.environ.get(f"{spec.env_prefix}_DATABASE_URL") or with_database(
        server_url, spec.database
    )


async def prepare(infra: Infrastructure, state_dir: Path) -> dict[str, str]:
    """Databases, migrations and topics; after a fresh embedded broker, replays the outbox."""
    urls: dict[str, str] = {}
    any_created = False
    for spec in SERVICES:
        url = service_database_url(spec, infra.server_url)
        created = await ensure_database(url)
        await migrate(url, spec.migrations)
        console.print(f"database {spec.database}: {'created, ' if created else ''}migrated")
        urls[spec.name] = url
        any_created |= created
    if any_created and infra.postgres is not None:
        await _checkpoint(infra.server_url)
    await prepare_broker(infra, urls, state_dir)
    return urls


async def prepare_broker(infra: Infrastructure, urls: dict[str, str], state_dir: Path) -> None:
    """Topics; on an embedded broker (empty at each start) the outbox replay. Runs at start and
    again for a restarted broker, so both take the one replay path."""
    # Read first: whatever a relay publishes to this broker is stamped later than this.
    started_at = await _database_now(next(iter(urls.values()))) if infra.embedded_broker else None
    await ensure_topics(
        infra.bootstrap_servers,
        all_topics(os.environ.get("LVYUE_TOPIC_PREFIX", "")),
        partitions=infra.topic_partitions,
        replication_factor=int(os.environ.get("LVYUE_TOPIC_REPLICATION_FACTOR", "1")),
    )
    if started_at is not None:
        await _replay_into_new_broker(urls, state_dir, started_at)


async def _checkpoint(url: str) -> None:
    """New databases leave ~1,500 files to sync; done now, a stop's shutdown checkpoint need not
    (seconds on a loaded disk: Ctrl-C during a first start would wait for it)."""
    await _run_once(url, "CHECKPOINT")


async def _database_now(url: str) -> datetime:
    now: datetime = await _run_once(url, "SELECT now()")
    return now


async def _run_once(url: str, sql: str) -> Any:
    """One statement on a connection of its own; its one value when it returns rows."""
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            result = await conn.execute(text(sql))
            return result.scalar_one() if result.returns_rows else None
    finally:
        await engine.dispose()


async def _replay_into_new_broker(
    urls: dict[str, str], state_dir: Path, started_at: datetime
) -> None:
    """The embedded broker starts empty: what the previous one received and some consumer had
    not processed yet is published again (see lvyue.common.replay), never the whole history."""
    epoch_file = state_dir / EPOCH_FILE
    if epoch_file.exists():
        previous = datetime.fromisoformat(json.loads(epoch_file.read_text())["started_at"])
        replayed = await replay_unconsumed(urls, lost_broker_started_at=previous)
        for name, counts in replayed.items():
            if counts.requeued:
                console.print(
                    f"{name}: {counts.requeued} of {counts.sent_to_lost_broker} events sent to "
                    "the previous broker not yet consumed: queued again"
                )
    epoch_file.write_text(json.dumps({"started_at": started_at.isoformat()}))


@dataclass
class ServiceProcess:
    spec: ServiceSpec
    port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    consumers: bool = False  # the service's second process: consumers, scanner and jobs
    host: str = "127.0.0.1"
    ready: bool = False  # answered /readyz once: it may hold work to drain at stop
    needs_database: bool = True  # its kernel connects at start
    slow_restart: bool = False  # a Popen: returns at once
    replica: int = 0

    @property
    def name(self) -> str:
        base = f"{self.spec.name} consumers" if self.consumers else self.spec.name
        return base if self.replica == 0 else f"{base} #{self.replica + 1}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def exit_status(self) -> str | None:
        code = self.process.poll()
        return None if code is None else describe_exit(code)

    def restart(self) -> None:
        if port_in_use(self.host, self.port):  # it would exit at once: say why instead
            raise PortInUseError(self.port, self.name, "--base-port")
        self.process = _start(self.spec, self.env)

    @property
    def consumes(self) -> bool:
        return self.env.get("LVYUE_CONSUMERS_ENABLED") != "false"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def service_env(
    spec: ServiceSpec,
    *,
    database_url: str,
    infra: Infrastructure,
    host: str,
    port: int,
    sandbox_url: str | None = None,
) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP_SERVERS": infra.bootstrap_servers,
            "LVYUE_HTTP_HOST": host,
            "LVYUE_HTTP_PORT": str(port),
            "LVYUE_TOPIC_PARTITIONS": str(infra.topic_partitions),  # as the topics were made
        }
    )
    if "LVYUE_LOG_JSON" not in os.environ and sys.stdout.isatty():
        # One readable format on a terminal: the services log as lvyue itself does.
        env["LVYUE_LOG_JSON"] = "false"
    if infra.embedded_broker:
        # Tansu answers InitProducerId with an error; correctness never relied on it.
        env["LVYUE_KAFKA_IDEMPOTENT_PRODUCER"] = "false"
        # It can hide a partition's last record until the next write: nudge quiet partitions.
        env.setdefault("LVYUE_KAFKA_NUDGE_QUIET_MS", str(BROKER_NUDGE_QUIET_MS))
        # With racing writes a fetch can skip a record not stored yet: read again from the gap.
        env.setdefault("LVYUE_KAFKA_OFFSET_GAP_WAIT_MS", str(BROKER_OFFSET_GAP_WAIT_MS))
        # It holds every fetch for the whole wait: the wait is each hop's latency.
        env.setdefault("LVYUE_CONSUMER_FETCH_MAX_WAIT_MS", str(BROKER_FETCH_MAX_WAIT_MS))
    if infra.postgres is not None or infra.embedded_broker:
        env.setdefault("LVYUE_ENV", "dev")
    dev = env.get("LVYUE_ENV") == "dev"
    if dev and spec.name == "fulfilment" and sandbox_url and "LVYUE_PLATFORM_APIS" not in env:
        # Tracking sync reaches the dev sandbox platform unless real APIs are configured.
        env["LVYUE_PLATFORM_APIS"] = platform_apis(sandbox_url, SANDBOX_PLATFORMS)
        env.setdefault("LVYUE_CARRIER_CODES", json.dumps(SANDBOX_CARRIER_CODES))
    if env.get("LVYUE_ENV") == "dev":
        env.setdefault(
            "LVYUE_WEBHOOK_SECRETS",
            json.dumps(
                {p: {"*": DEV_WEBHOOK_SECRET} for p in ADAPTERS}
                # the demo and the bench post other platforms' orders in the lvyue format
                | {"lvyue": relaying(DEV_WEBHOOK_SECRET, ADAPTERS)}
            ),
        )
        env.setdefault("LVYUE_API_TOKENS", json.dumps(DEV_TOKENS))
    return env


def start_services(
    urls: dict[str, str],
    infra: Infrastructure,
    opts: RuntimeOptions,
    sandbox_url: str | None = None,
) -> list[ServiceProcess]:
    procs = []
    for place in placements(opts.base_port, opts.replicas):
        spec = place.spec
        env = service_env(
            spec,
            database_url=urls[spec.name],
            infra=infra,
            host=opts.http_host,
            port=place.port,
            sandbox_url=sandbox_url,
        )
        # Unique among the live members of the service's group, the same after a restart.
        env["LVYUE_CONSUMER_INSTANCE"] = str(place.replica)
        if opts.clock is not None:
            env.update(opts.clock.env())
        if place.shared_port is not None:
            env["LVYUE_HTTP_SHARED_PORT"] = str(place.shared_port)
        if spec.consumers_port(opts.base_port) is not None:
            # One process serves the API; the other consumes and relays what both commit.
            env.update(_IN_CONSUMERS_PROCESS if place.consumers else _OFF_IN_API_PROCESS)
        if place.replica > 0:
            # Consumers share partitions and scanners share deadlines across replicas; the
            # periodic jobs (ledger, metrics, slow-moving, tracking) run in the first only.
            env["LVYUE_BACKGROUND_JOBS_ENABLED"] = "false"
        procs.append(
            ServiceProcess(
                spec,
                place.port,
                env,
                _start(spec, env),
                consumers=place.consumers,
                host=opts.http_host,
                replica=place.replica,
            )
        )
    return procs


_OFF_IN_API_PROCESS = {
    "LVYUE_CONSUMERS_ENABLED": "false",
    "LVYUE_DEADLINE_SCANNER_ENABLED": "false",
    "LVYUE_BACKGROUND_JOBS_ENABLED": "false",
    # Intake's loop does requests only: its events are published by the consumers' process,
    # woken by NOTIFY at each commit.
    "LVYUE_OUTBOX_ENABLED": "false",
    "LVYUE_OUTBOX_NOTIFY": "true",
}
_IN_CONSUMERS_PROCESS = {"LVYUE_OUTBOX_LISTEN": "true"}


def _start(spec: ServiceSpec, env: dict[str, str]) -> subprocess.Popen[bytes]:
    # Own session: Ctrl-C reaches only lvyue, which stops everything in order.
    return subprocess.Popen([sys.executable, "-m", spec.module], env=env, start_new_session=True)


def stop_services(
    procs: list[ServiceProcess], *, drain_s: float, unready_s: float, force: Callable[[], bool]
) -> None:
    """SIGTERM to all at once. One that was ever ready gets `drain_s` to drain; one that never
    was has nothing to drain and gets `unready_s`, so a start cut short ends at once. Still
    running after that, or when `force()` turns true (a second Ctrl-C): killed."""
    for proc in procs:
        if proc.process.poll() is None:
            proc.process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    while running := [p for p in procs if p.process.poll() is None]:
        waited = time.monotonic() - started
        for proc in running:
            if force() or waited > (drain_s if proc.ready else unready_s):
                console.print(f"{proc.name} still running after {waited:.1f}s: killing it")
                proc.process.kill()
                proc.process.wait()
        time.sleep(0.05)
    for proc in procs:
        console.print(f"{proc.name} stopped")


def run(opts: RuntimeOptions) -> int:
    interrupts = Interrupts().install()
    infra = plan_infrastructure(opts)
    procs: list[ServiceProcess] = []
    helpers: list[ChildProcess] = []
    try:
        check_ports(opts, infra)
        with interrupts.interruptible():
            start_infrastructure(opts, infra)
            urls = asyncio.run(prepare(infra, opts.state_dir))
            helpers = start_helpers(opts, infra, stage="before")
        sandbox = next((h for h in helpers if h.name == SANDBOX), None)
        procs = start_services(urls, infra, opts, sandbox.url if sandbox else None)
        with interrupts.interruptible():
            wait_ready(
                procs,
                timeout_s=opts.start_timeout_s,
                probe_timeout_s=opts.probe_timeout_s,
                stop=lambda: interrupts.requested,
            )
            helpers += start_helpers(opts, infra, stage="after")
        print_banner(procs, infra, opts.clock, helpers)
        supervisor = Supervisor(
            [*_units(procs, infra, urls, opts.state_dir), *helpers],
            opts.restart,
            say=_say,
            interruptible=interrupts.interruptible,
        )
        liveness = LivenessWatch(procs, opts.liveness, say=_say)
        while not interrupts.requested:
            liveness.tick()
            supervisor.tick()
            time.sleep(0.2)
        liveness.close()
        console.print("stopping: services first (intake, consumers, relays drain)")
        return 0
    except KeyboardInterrupt:  # Ctrl-C cut a start or a restart short: a stop as asked
        console.print("interrupted: stopping what was started")
        return 0
    except (PortInUseError, NotReadyError, CrashLoopError, HelperError) as exc:
        console.print(
            f"lvyue run: {exc}", style="red", markup=False, highlight=False, soft_wrap=True
        )
        return 1
    finally:
        stop_services(procs, drain_s=30.0, unready_s=1.0, force=lambda: interrupts.count > 1)
        for helper in helpers:
            helper.stop()
        infra.stop()


SANDBOX = "sandbox platform"
# Every platform slug an order can come from, tmall with taobao's API.
SANDBOX_PLATFORMS = (*ADAPTERS, "tmall")


class HelperError(RuntimeError):
    """A helper (sandbox platform, Prometheus) could not start."""


def start_helpers(opts: RuntimeOptions, infra: Infrastructure, *, stage: str) -> list[ChildProcess]:
    """Before the services: the dev sandbox platform (dev only, unless LVYUE_PLATFORM_APIS is
    set). After them: Prometheus, when asked for."""
    helpers: list[ChildProcess] = []
    dev = os.environ.get("LVYUE_ENV", "dev" if infra.postgres or infra.broker else "") == "dev"
    if stage == "before" and dev and "LVYUE_PLATFORM_APIS" not in os.environ:
        helpers.append(sandbox_process("127.0.0.1", free_port(), opts.state_dir))
    if stage == "after" and opts.console:
        helpers.append(start_console(opts, infra))
    if stage == "after" and opts.prometheus_port is not None:
        binary = prometheus_binary()
        if binary is None:
            raise HelperError("--prometheus: no prometheus binary on PATH (make tools)")
        if port_in_use("127.0.0.1", opts.prometheus_port):
            # A convenience next to the services (often a system Prometheus holds 9090): the
            # services run without it rather than not at all.
            console.print(
                f"Prometheus not started: port {opts.prometheus_port} is in use (another "
                "Prometheus?); choose a free one with --prometheus-port. The services run "
                "without it.",
                style="yellow",
            )
        else:
            targets: dict[str, list[str]] = {}
            for place in placements(opts.base_port, opts.replicas):
                targets.setdefault(place.spec.name, []).append(f"127.0.0.1:{place.port}")
            if opts.console:  # its request latencies (lvyue_http_request_duration_seconds)
                targets["console"] = [f"127.0.0.1:{console_port(opts.base_port)}"]
            helpers.append(
                prometheus_process(
                    binary, "127.0.0.1", opts.prometheus_port, opts.state_dir, targets
                )
            )
    for helper in helpers:
        helper.start()
    try:
        for helper in helpers:
            helper.wait_listening()
    except RuntimeError as exc:
        for helper in helpers:
            helper.stop()
        raise HelperError(f"{exc} (log: {helper.log_path})") from exc
    return helpers


def start_console(opts: RuntimeOptions, infra: Infrastructure) -> ChildProcess:
    """The console with the services' tokens and timezones (their environment, less the
    database's and the broker's addresses: it calls their APIs only)."""
    env = service_env(SERVICES[0], database_url="", infra=infra, host=opts.http_host, port=0)
    for name in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"):
        env.pop(name, None)
    urls = {s.name: f"http://127.0.0.1:{s.port(opts.base_port)}" for s in SERVICES}
    port = console_port(opts.base_port)
    return console_process(opts.http_host, port, opts.state_dir, env, urls)


def check_ports(opts: RuntimeOptions, infra: Infrastructure) -> None:
    """Before anything starts: a taken port fails here, named, not as a service's exit code."""
    if infra.broker is not None and port_in_use(infra.broker.host, opts.broker_port):
        raise PortInUseError(opts.broker_port, "the embedded broker", "--broker-port")
    ports = {p.name: p.port for p in placements(opts.base_port, opts.replicas)}
    if opts.console:
        ports["console"] = console_port(opts.base_port)
    if opts.replicas > 1:  # the ports the replicas share, too
        ports |= {f"{spec.name} (shared)": spec.port(opts.base_port) for spec in SERVICES}
    check_service_ports(opts.http_host, ports)


def _say(line: str) -> None:
    console.print(line, markup=False, highlight=False, soft_wrap=True)


def _units(
    procs: list[ServiceProcess], infra: Infrastructure, urls: dict[str, str], state_dir: Path
) -> list[Unit]:
    units: list[Unit] = list(procs)
    if infra.postgres is not None:
        units.append(PostgresUnit(infra.postgres))
    if infra.broker is not None:

        def on_new_broker() -> None:
            asyncio.run(prepare_broker(infra, urls, state_dir))

        consumers = [p for p in procs if p.consumes]
        units.append(BrokerUnit(infra.broker, on_new_broker, consumers, say=_say))
    return units


def print_banner(
    procs: list[ServiceProcess],
    infra: Infrastructure,
    clock: SimulatedClockOptions | None = None,
    helpers: list[ChildProcess] | None = None,
) -> None:
    console.rule("lvyue is running")
    for proc in procs:
        shared = proc.env.get("LVYUE_HTTP_SHARED_PORT")
        also = f"  (API shared by its replicas at :{shared})" if shared else ""
        console.print(f"  {proc.name:<26} {proc.url}  /docs /metrics{also}", soft_wrap=True)
    console.print(f"  {'broker':<26} {infra.bootstrap_servers}", soft_wrap=True)
    if infra.postgres is not None:
        console.print(f"  {'PostgreSQL':<26} {infra.server_url}", soft_wrap=True)
    for helper in helpers or ():
        what = {
            SANDBOX: "  dev sandbox: fulfilment's tracking sync of every platform goes here",
            "prometheus": "/alerts  (the project's rules, 5 s evaluation)",
            "console": "  operators' pages: sign in with a token below",
        }.get(helper.name, "")
        console.print(f"  {helper.name:<26} {helper.url}{what}", soft_wrap=True)
    if procs and os.environ.get("LVYUE_API_TOKENS") is None:
        console.print("  dev tokens (Authorization: Bearer <token>):")
        for role, tokens in DEV_TOKENS.items():
            console.print(f"    {role:<24} {tokens[0]}", soft_wrap=True)
    if procs and os.environ.get("LVYUE_WEBHOOK_SECRETS") is None:
        console.print(f"  dev webhook secret, every platform: {DEV_WEBHOOK_SECRET}", soft_wrap=True)
    if clock is not None:
        console.print(
            f"  simulated clock: {clock.start.isoformat()} at {clock.anchor.isoformat()},"
            f" {clock.speed:g}x real time",
            soft_wrap=True,
        )
    console.print("Ctrl-C stops everything in order.")
