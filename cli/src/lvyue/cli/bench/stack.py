"""The system under test: `lvyue run` as a subprocess on free ports with its own state folder.

Embedded PostgreSQL and broker by default (fresh each run, so no earlier run's events are
replayed into the measurement); given servers with --database-url / --kafka.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from lvyue.cli.bench.orders import SHOPS
from lvyue.cli.embedded import free_port, free_port_block
from lvyue.cli.log_tail import log_tail
from lvyue.cli.services import SERVICES, api_url, console_port, ports_used, process_urls
from lvyue.common.db import with_database
from lvyue.common.webhooks import relaying

HOST = "127.0.0.1"  # the bench never sends load anywhere else


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    services: dict[str, str]  # process name -> its own base URL (health, metrics)
    intake_url: str  # where webhooks go: order-review's API, shared by its replicas
    server_url: str  # the PostgreSQL server, any database on it
    bootstrap_servers: str
    embedded_postgres: bool
    postmaster_pid: int | None
    log_path: Path
    topic_prefix: str
    console_url: str | None = None  # the operators' console lvyue run serves

    @property
    def service_names(self) -> list[str]:
        return list(self.services)


@dataclass(frozen=True)
class Credentials:
    webhook_secret: str
    ops_token: str
    warehouse_token: str | None = None  # to confirm dispatches as a warehouse (lvyue chaos)


def _run_env(database_url: str | None, kafka: str | None, creds: Credentials) -> dict[str, str]:
    dropped = {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS", "LVYUE_STATE_DIR", "LVYUE_BROKER_PORT"}
    dropped |= {f"{spec.env_prefix}_DATABASE_URL" for spec in SERVICES}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    if database_url:
        env["DATABASE_URL"] = database_url
    if kafka:
        env["KAFKA_BOOTSTRAP_SERVERS"] = kafka
    if not database_url or not kafka:
        env.setdefault("LVYUE_ENV", "dev")
    # the bench's orders are Taobao, JD and Pinduoduo orders relayed in the lvyue format
    relayed = {platform for platform, _ in SHOPS}
    env["LVYUE_WEBHOOK_SECRETS"] = json.dumps({"lvyue": relaying(creds.webhook_secret, relayed)})
    tokens = {"ops": [creds.ops_token]}
    if creds.warehouse_token:
        tokens["warehouse"] = [creds.warehouse_token]
    env["LVYUE_API_TOKENS"] = json.dumps(tokens)
    return env


def start_stack(
    *,
    state_dir: Path,
    creds: Credentials,
    database_url: str | None = None,
    kafka: str | None = None,
    timeout_s: float = 180.0,
    replicas: int = 1,
    base_port: int | None = None,
) -> Stack:
    """Starts `lvyue run` (on free ports unless `base_port` is given) and waits until every
    service answers /readyz."""
    run_state = state_dir / "state"
    if run_state.exists():
        shutil.rmtree(run_state)  # fresh PostgreSQL data and broker epoch: nothing replayed
    state_dir.mkdir(parents=True, exist_ok=True)
    base_port = base_port or free_port_block(ports_used(replicas), HOST)
    broker_port = free_port(HOST)
    log_path = state_dir / "run.log"
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable, "-m", "lvyue.cli", "run",
                "--state-dir", str(run_state),
                "--broker-port", str(broker_port),
                "--base-port", str(base_port),
                "--host", HOST,
                "--replicas", str(replicas),
                # The intake-alone phase stops the pipeline's processes (SIGSTOP) on purpose:
                # the liveness probes would take them for hung and restart them.
                "--liveness-failures", "0",
            ],
            env=_run_env(database_url, kafka, creds),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # our Ctrl-C is handled by us, who stop it in order
        )  # fmt: skip
    services = process_urls(HOST, base_port, replicas)
    stack = Stack(
        process=process,
        services=services,
        intake_url=api_url(HOST, base_port, "order-review"),
        server_url=database_url or "",
        bootstrap_servers=kafka or f"{HOST}:{broker_port}",
        embedded_postgres=not database_url,
        postmaster_pid=None,
        log_path=log_path,
        topic_prefix=os.environ.get("LVYUE_TOPIC_PREFIX", ""),
        console_url=f"http://{HOST}:{console_port(base_port)}",
    )
    try:
        deadline = time.monotonic() + timeout_s
        for url in services.values():
            _wait_ready(f"{url}/readyz", process, deadline, log_path)
        _wait_ready(f"{stack.console_url}/livez", process, deadline, log_path)
        if stack.embedded_postgres:
            pid, server_url = _postmaster(run_state / "pgdata")
            stack.postmaster_pid, stack.server_url = pid, server_url
    except BaseException:
        stop_stack(stack)
        raise
    return stack


def _wait_ready(
    url: str, process: subprocess.Popen[bytes], deadline: float, log_path: Path
) -> None:
    with httpx.Client(timeout=1.0) as client:  # one client: each new one loads the CA bundle
        while True:
            if process.poll() is not None:
                tail = log_tail(log_path, lines=30)
                raise RuntimeError(f"lvyue run exited with {process.returncode}:\n{tail}")
            with contextlib.suppress(httpx.HTTPError):
                if client.get(url).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} not ready in time; see {log_path}")
            time.sleep(0.25)


def _postmaster(pgdata: Path) -> tuple[int, str]:
    """The embedded server's pid and URL, from postmaster.pid (pgserver listens on a socket)."""
    lines = (pgdata / "postmaster.pid").read_text().splitlines()
    pid, port, socket_dir = int(lines[0]), lines[3].strip(), lines[4].strip()
    return pid, f"postgresql://postgres@/postgres?host={socket_dir}&port={port}"


def database_url(stack: Stack, database: str) -> str:
    return with_database(stack.server_url, database)


def stop_stack(stack: Stack, timeout_s: float = 60.0) -> int:
    """Ctrl-C to `lvyue run` (services drain, then broker, then PostgreSQL); KILL if stuck."""
    process = stack.process
    if process.poll() is None:
        children = _children(process.pid)
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            for child in children:  # only what our own `lvyue run` started
                with contextlib.suppress(psutil.Error):
                    child.kill()
            process.kill()
            process.wait()
    return process.returncode


def _children(pid: int) -> list[psutil.Process]:
    try:
        return list(psutil.Process(pid).children(recursive=True))
    except psutil.Error:
        return []
