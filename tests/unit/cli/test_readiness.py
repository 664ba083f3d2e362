"""Startup readiness: every process probed at once, a slow answer is no failure, a dead process
fails the start at once with its exit."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lvyue.cli.readiness import NotReadyError, wait_ready


class SlowReadyz(BaseHTTPRequestHandler):
    delay_s = 2.0  # above the 1.5 s seen under load

    def do_GET(self) -> None:
        time.sleep(self.delay_s)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class Proc:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    host: str = "127.0.0.1"
    ready: bool = False

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


@pytest.fixture
def slow_servers() -> Iterator[list[int]]:
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), SlowReadyz) for _ in range(3)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield [server.server_address[1] for server in servers]
    for server in servers:
        server.shutdown()
        server.server_close()


def _sleeper(seconds: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({seconds})"])


def test_slow_readyz_answers_pass_and_are_probed_concurrently(slow_servers: list[int]) -> None:
    procs = [Proc(f"s{n}", port, _sleeper(30)) for n, port in enumerate(slow_servers)]
    started = time.monotonic()
    try:
        wait_ready(procs, timeout_s=20, probe_timeout_s=5)
    finally:
        for proc in procs:
            proc.process.kill()
            proc.process.wait()
    took = time.monotonic() - started
    assert all(proc.ready for proc in procs)
    assert took < 2.0 * len(procs)  # not one after the other


def test_a_process_that_exits_fails_the_start_with_its_exit(slow_servers: list[int]) -> None:
    crashed = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    procs = [Proc("inventory", slow_servers[0], crashed)]
    started = time.monotonic()
    with pytest.raises(NotReadyError, match=r"inventory exited \(exit code 3\) before it was"):
        wait_ready(procs, timeout_s=20, probe_timeout_s=5)
    assert time.monotonic() - started < 5  # not after the probe or the overall timeout


def test_a_stop_asked_while_waiting_ends_the_wait_within_a_poll(slow_servers: list[int]) -> None:
    """Ctrl-C's own KeyboardInterrupt can be lost (raised inside a weakref callback, where
    Python ignores it): the wait also polls the flag the signal handler set."""
    procs = [Proc("inventory", slow_servers[0], _sleeper(30))]
    asked = time.monotonic() + 0.3
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            wait_ready(
                procs, timeout_s=20, probe_timeout_s=5, stop=lambda: time.monotonic() > asked
            )
    finally:
        procs[0].process.kill()
        procs[0].process.wait()
    assert time.monotonic() - started < 1.0  # not the 2 s answer, nor the timeout
    assert not procs[0].ready
