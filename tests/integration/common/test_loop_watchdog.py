"""A service process whose event loop is blocked for good ends itself, its stack on stderr,
for its supervisor to start it again (a real process, on the test database and broker)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from lvyue.cli.embedded import free_port
from lvyue.common.settings import Environment, KernelSettings
from lvyue.order_review.settings import OrderReviewSettings
from tests.support.apps import kernel_env

WATCHDOG_S = 2.0


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"not ready within 60 s:\n{log.read_text()[-3000:]}")


def test_a_blocked_event_loop_ends_the_process_with_its_stack(
    make_settings: Callable[..., OrderReviewSettings], tmp_path: Path
) -> None:
    port = free_port()
    env = kernel_env(make_settings(), port, LVYUE_LOOP_WATCHDOG_S=str(WATCHDOG_S))
    log = tmp_path / "service.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.hanging_service"],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_ready(url, process, log)
            time.sleep(WATCHDOG_S * 1.5)  # serving, idle, past the watchdog's time: not ended
            assert process.poll() is None, log.read_text()[-3000:]
            with contextlib.suppress(httpx.TimeoutException):  # no answer: the loop is blocked
                httpx.get(f"{url}/block", timeout=0.5)
            blocked_at = time.monotonic()
            code = process.wait(timeout=WATCHDOG_S + 20)
            took = time.monotonic() - blocked_at
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    output = log.read_text()
    assert code == 1, output[-3000:]
    assert took < WATCHDOG_S + 15, output[-3000:]
    assert f"Timeout (0:00:0{WATCHDOG_S:g})!" in output
    assert 'hanging_service.py", line' in output  # where the loop stood: the blocking call
    assert "in block" in output


def test_the_watchdog_is_off_in_tests_and_on_elsewhere() -> None:
    """Apps in pytest's own process must not end it; a served process watches by default."""
    assert KernelSettings(env=Environment.TEST).loop_watchdog_seconds == 0
    assert KernelSettings(env=Environment.DEV).loop_watchdog_seconds == 30
    assert KernelSettings(env=Environment.TEST, loop_watchdog_s=5).loop_watchdog_seconds == 5
    assert KernelSettings(env=Environment.DEV, loop_watchdog_s=0).loop_watchdog_seconds == 0
