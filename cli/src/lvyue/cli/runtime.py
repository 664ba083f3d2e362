"""`lvyue run`: databases, topics and migrations, then each service as its own process.

Stops in order on Ctrl-C: services first (intake closes, consumers finish, relays drain),
then the broker, then PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
from rich.console import Console
from sqlalchemy import text

from lvyue.cli.embedded import EmbeddedBroker, EmbeddedPostgres
from lvyue.cli.services import SERVICES, ServiceSpec
from lvyue.common.db import ensure_database, make_engine, make_session_factory, with_database
from lvyue.common.events import all_topics
from lvyue.common.kafka import ensure_topics
from lvyue.common.migrate import migrate
from lvyue.common.outbox import requeue_sent_since
from lvyue.order_review.platforms import ADAPTERS

console = Console(stderr=True)

DEV_WEBHOOK_SECRET = "dev-webhook-secret"
DEV_TOKENS = {role: [f"dev-{role}-token"] for role in ("ops", "warehouse", "sre", "platform")}
EPOCH_FILE = "broker-epoch.json"


@dataclass
class RuntimeOptions:
    state_dir: Path
    broker_port: int
    http_host: str
    base_port: int | None
    database_url: str | None = field(default_factory=lambda: os.environ.get("DATABASE_URL"))
    kafka: str | None = field(default_factory=lambda: os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))


@dataclass
class Infrastructure:
    """Where PostgreSQL and the broker are, and who must stop them."""

    server_url: str
    bootstrap_servers: str
    postgres: EmbeddedPostgres | None = None
    broker: EmbeddedBroker | None = None

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


def start_infrastructure(opts: RuntimeOptions) -> Infrastructure:
    opts.state_dir.mkdir(parents=True, exist_ok=True)
    infra = Infrastructure(server_url=opts.database_url or "", bootstrap_servers=opts.kafka or "")
    if not opts.database_url:
        infra.postgres = EmbeddedPostgres(opts.state_dir / "pgdata")
        infra.server_url = infra.postgres.start()
        console.print(f"PostgreSQL (embedded, data in {opts.state_dir / 'pgdata'}) ready")
    if not opts.kafka:
        infra.broker = EmbeddedBroker(port=opts.broker_port, log_path=opts.state_dir / "broker.log")
        infra.bootstrap_servers = infra.broker.start()
        console.print(f"broker (embedded Tansu, in memory) on {infra.bootstrap_servers}")
    return infra


def service_database_url(spec: ServiceSpec, server_url: str) -> str:
    return os.environ.get(f"{spec.env_prefix}_DATABASE_URL") or with_database(
        server_url, spec.database
    )


async def prepare(infra: Infrastructure, state_dir: Path) -> dict[str, str]:
    """Databases, migrations and topics; after a fresh embedded broker, replays the outbox."""
    urls: dict[str, str] = {}
    for spec in SERVICES:
        url = service_database_url(spec, infra.server_url)
        created = await ensure_database(url)
        await migrate(url, spec.migrations)
        console.print(f"database {spec.database}: {'created, ' if created else ''}migrated")
        urls[spec.name] = url
    await ensure_topics(
        infra.bootstrap_servers,
        all_topics(os.environ.get("LVYUE_TOPIC_PREFIX", "")),
        partitions=int(os.environ.get("LVYUE_TOPIC_PARTITIONS", "6")),
        replication_factor=int(os.environ.get("LVYUE_TOPIC_REPLICATION_FACTOR", "1")),
    )
    if infra.embedded_broker:
        await _replay_into_new_broker(urls, state_dir)
    return urls


async def _replay_into_new_broker(urls: dict[str, str], state_dir: Path) -> None:
    """The embedded broker starts empty: what was published to the previous one may not have
    been consumed yet, so every event sent since that broker started is published again."""
    epoch_file = state_dir / EPOCH_FILE
    previous = (
        datetime.fromisoformat(json.loads(epoch_file.read_text())["started_at"])
        if epoch_file.exists()
        else None
    )
    started_at: datetime | None = None
    for name, url in urls.items():
        engine = make_engine(url, pool_size=1, max_overflow=0)
        try:
            async with engine.connect() as conn:
                started_at = started_at or (await conn.execute(text("SELECT now()"))).scalar_one()
            if previous is not None:
                replayed = await requeue_sent_since(make_session_factory(engine), previous)
                if replayed:
                    console.print(
                        f"{name}: {replayed} events from the previous broker queued again"
                    )
        finally:
            await engine.dispose()
    if started_at is not None:
        epoch_file.write_text(json.dumps({"started_at": started_at.isoformat()}))


@dataclass
class ServiceProcess:
    spec: ServiceSpec
    port: int
    process: subprocess.Popen[bytes]
    consumers: bool = False  # the service's second process: consumers, scanner and jobs

    @property
    def name(self) -> str:
        return f"{self.spec.name} consumers" if self.consumers else self.spec.name

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def service_env(
    spec: ServiceSpec, *, database_url: str, infra: Infrastructure, host: str, port: int
) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP_SERVERS": infra.bootstrap_servers,
            "LVYUE_HTTP_HOST": host,
            "LVYUE_HTTP_PORT": str(port),
        }
    )
    if infra.embedded_broker:
        # Tansu answers InitProducerId with an error; correctness never relied on it.
        env["LVYUE_KAFKA_IDEMPOTENT_PRODUCER"] = "false"
    if infra.postgres is not None or infra.embedded_broker:
        env.setdefault("LVYUE_ENV", "dev")
    if env.get("LVYUE_ENV") == "dev":
        env.setdefault(
            "LVYUE_WEBHOOK_SECRETS",
            json.dumps({p: {"*": DEV_WEBHOOK_SECRET} for p in ADAPTERS}),
        )
        env.setdefault("LVYUE_API_TOKENS", json.dumps(DEV_TOKENS))
    return env


def start_services(
    urls: dict[str, str], infra: Infrastructure, opts: RuntimeOptions
) -> list[ServiceProcess]:
    procs = []
    for spec in SERVICES:
        port = spec.port(opts.base_port)
        consumers_port = spec.consumers_port(opts.base_port)
        env = service_env(
            spec, database_url=urls[spec.name], infra=infra, host=opts.http_host, port=port
        )
        if consumers_port is not None:  # this process serves the API; the other consumes
            env.update(_OFF_IN_API_PROCESS)
        procs.append(ServiceProcess(spec, port, _start(spec, env)))
        if consumers_port is not None:
            env = service_env(
                spec,
                database_url=urls[spec.name],
                infra=infra,
                host=opts.http_host,
                port=consumers_port,
            )
            procs.append(ServiceProcess(spec, consumers_port, _start(spec, env), consumers=True))
    return procs


_OFF_IN_API_PROCESS = {
    "LVYUE_CONSUMERS_ENABLED": "false",
    "LVYUE_DEADLINE_SCANNER_ENABLED": "false",
    "LVYUE_BACKGROUND_JOBS_ENABLED": "false",
}


def _start(spec: ServiceSpec, env: dict[str, str]) -> subprocess.Popen[bytes]:
    # Own session: Ctrl-C reaches only lvyue, which stops everything in order.
    return subprocess.Popen([sys.executable, "-m", spec.module], env=env, start_new_session=True)


def wait_ready(procs: list[ServiceProcess], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    for proc in procs:
        while True:
            if proc.process.poll() is not None:
                raise RuntimeError(f"{proc.name} exited with code {proc.process.returncode}")
            try:
                if httpx.get(f"{proc.url}/readyz", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{proc.name} not ready within {timeout_s}s")
            time.sleep(0.2)


def stop_services(procs: list[ServiceProcess], timeout_s: float = 30.0) -> None:
    for proc in procs:
        if proc.process.poll() is None:
            proc.process.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            console.print(f"{proc.name} did not stop in {timeout_s}s: killing it")
            proc.process.kill()
            proc.process.wait()
        console.print(f"{proc.name} stopped")


def run(opts: RuntimeOptions) -> int:
    stopping = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    infra = start_infrastructure(opts)
    procs: list[ServiceProcess] = []
    try:
        urls = asyncio.run(prepare(infra, opts.state_dir))
        procs = start_services(urls, infra, opts)
        wait_ready(procs)
        print_banner(procs, infra)
        while not stopping:
            for proc in procs:
                if proc.process.poll() is not None:
                    console.print(f"[red]{proc.name} exited ({proc.process.returncode})[/red]")
                    stopping = True
            time.sleep(0.3)
        console.print("stopping: services first (intake, consumers, relays drain)")
        return 0
    finally:
        stop_services(procs)
        infra.stop()


def print_banner(procs: list[ServiceProcess], infra: Infrastructure) -> None:
    console.rule("lvyue is running")
    for proc in procs:
        console.print(f"  {proc.name:<24} {proc.url}  (docs {proc.url}/docs, {proc.url}/metrics)")
    console.print(f"  {'broker':<24} {infra.bootstrap_servers}")
    if infra.postgres is not None:
        console.print(f"  {'PostgreSQL':<24} {infra.server_url}")
    if procs and os.environ.get("LVYUE_API_TOKENS") is None:
        console.print(
            f"  dev ops token  {DEV_TOKENS['ops'][0]}   webhook secret {DEV_WEBHOOK_SECRET}"
        )
    console.print("Ctrl-C stops everything in order.")
