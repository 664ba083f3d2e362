"""The embedded PostgreSQL outlasts pgserver's fixed 10 s `pg_ctl start`: crash recovery on a
loaded machine can take longer, and the server goes on starting after pg_ctl gives up. Here
pg_ctl is made to give up at once (the real server still starts) and the start still succeeds."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from pgserver import postgres_server

from lvyue.cli.embedded import EmbeddedPostgres

PgCtl = Callable[..., Any]
real_pg_ctl: PgCtl = vars(postgres_server)["pg_ctl"]  # made at import: no static attribute


def _impatient(real: PgCtl, *, start: bool) -> PgCtl:
    """pg_ctl that gives up on every start as pgserver's does after 10 s: it returns at once
    (`-W`, no wait) with the server still starting; `start=False` starts none, as if the
    server had died at once, leaving a line in its log."""

    def pg_ctl(args: list[str], **kwargs: Any) -> Any:
        if "start" not in args:
            return real(args, **kwargs)
        log = Path(args[args.index("-l") + 1])
        if start:
            real(["-W" if a == "-w" else a for a in args], **kwargs)
            # pg_ctl gives up after 10 s, by when the postmaster has long written its pid
            # file and its log (pgserver reads it then); on a loaded machine that can take
            # seconds after `-W` returns.
            deadline = time.monotonic() + 30
            while not (_postmaster_alive(log.parent) and log.exists()):
                if time.monotonic() > deadline:
                    break
                time.sleep(0.05)
        else:
            log.write_text("FATAL:  could not start (test)\n")
        raise subprocess.TimeoutExpired(cmd="pg_ctl start", timeout=10)

    return pg_ctl


def _postmaster_alive(data_dir: Path) -> bool:
    """postmaster.pid names a live process (after a kill -9 it names the dead one a while)."""
    try:
        pid = int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


async def _query(postgres: EmbeddedPostgres, sql: str) -> object:
    socket_dir = postgres.url().split("host=", 1)[1]
    conn = await asyncpg.connect(host=socket_dir, user="postgres", database="postgres")
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


def _gone(pid: int, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_a_start_that_pg_ctl_gave_up_on_waits_for_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postgres_server, "pg_ctl", _impatient(real_pg_ctl, start=True))
    postgres = EmbeddedPostgres(tmp_path / "pgdata", start_timeout_s=60)
    postgres.start()
    try:
        assert asyncio.run(_query(postgres, "SELECT 1")) == 1
        pid = postgres.pid
        assert pid is not None
    finally:
        postgres.stop()
    assert _gone(pid), "stop() left the server running"


def test_a_restart_after_a_kill_waits_out_crash_recovery(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    postgres = EmbeddedPostgres(tmp_path / "pgdata", start_timeout_s=60)
    postgres.start()
    try:
        killed = postgres.pid
        assert killed is not None
        os.kill(killed, signal.SIGKILL)
        monkeypatch.setattr(postgres_server, "pg_ctl", _impatient(real_pg_ctl, start=True))
        postgres.restart()
        assert postgres.pid not in (None, killed)
        assert asyncio.run(_query(postgres, "SELECT 1")) == 1
        assert "database system was interrupted" in (tmp_path / "pgdata" / "log").read_text()
    finally:
        postgres.stop()


def test_a_server_that_never_comes_fails_the_start_and_names_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(postgres_server, "pg_ctl", _impatient(real_pg_ctl, start=False))
    postgres = EmbeddedPostgres(tmp_path / "pgdata", start_timeout_s=5)
    began = time.monotonic()
    try:
        with pytest.raises(RuntimeError, match="stopped while starting; its log: ") as failed:
            postgres.start()
    finally:
        postgres.stop()
    assert time.monotonic() - began < 30
    message = str(failed.value)
    assert str(tmp_path / "pgdata" / "log") in message
    assert message.endswith("FATAL:  could not start (test)")


def test_crash_recovery_syncs_the_data_directory_by_file_system(tmp_path: Path) -> None:
    postgres = EmbeddedPostgres(tmp_path / "pgdata")
    for _ in range(2):  # the setting holds from the start after the one that made it
        postgres.start()
        try:
            method = asyncio.run(_query(postgres, "SHOW recovery_init_sync_method"))
        finally:
            postgres.stop()
    assert method == ("syncfs" if sys.platform.startswith("linux") else "fsync")  # Linux's call


def test_a_failure_to_set_syncfs_does_not_fail_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(self: postgres_server.PostgresServer, command: str) -> str:
        raise subprocess.CalledProcessError(2, "psql")

    monkeypatch.setattr(postgres_server.PostgresServer, "psql", refused)
    postgres = EmbeddedPostgres(tmp_path / "pgdata")
    postgres.start()
    try:
        assert asyncio.run(_query(postgres, "SELECT 1")) == 1
    finally:
        postgres.stop()
