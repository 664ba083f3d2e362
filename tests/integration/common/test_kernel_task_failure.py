"""A kernel task (relay, consumer, deadline scans, a job) that fails while the service runs
must not leave an API answering in front of work that stopped: the failure is logged and
counted, /readyz says which task failed, and the process stops with a non-zero exit for its
supervisor (`lvyue run`, systemd, Kubernetes) to start it again."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from prometheus_client import REGISTRY

from lvyue.cli.embedded import free_port
from lvyue.common.app import create_app
from lvyue.common.bootstrap import Kernel
from lvyue.order_review.settings import OrderReviewSettings
from tests.support.apps import kernel_env, serve
from tests.support.failing_service import boom
from tests.support.polling import eventually


def _failures(task: str) -> float:
    return REGISTRY.get_sample_value("lvyue_kernel_task_failures_total", {"task": task}) or 0.0


async def _quiet(kernel: Kernel, stop: asyncio.Event) -> None:
    await stop.wait()


async def test_a_failed_task_is_counted_named_by_readyz_and_stops_the_service(
    make_settings: Callable[..., OrderReviewSettings],
) -> None:
    settings = make_settings(consumers_enabled=False)
    app = create_app(settings, title="t", routers=[], background=[_quiet, boom])
    stopped: list[str] = []
    app.state.on_task_failure = stopped.append  # what `serve` sets: the server's stop
    before = _failures("boom")
    async with serve(app) as client:
        assert (await client.get("/readyz")).status_code == 200
        ready = await eventually(
            lambda: client.get("/readyz"), lambda r: r.status_code == 503, timeout_s=10
        )
        assert ready.json()["down"] == ["boom"]
        assert ready.json()["checks"] == {"database": "ok", "broker": "ok", "boom": "failed"}
        assert ready.json()["detail"] == "boom failed"
        assert stopped == ["boom"]
        assert _failures("boom") == before + 1
        assert app.state.kernel.failed_task == "boom"
    assert stopped == ["boom"]  # tasks ended by the stop are no failure


def test_a_service_process_whose_task_failed_exits_non_zero(
    make_settings: Callable[..., OrderReviewSettings], tmp_path: Path
) -> None:
    env = kernel_env(make_settings(), free_port())
    log = tmp_path / "service.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.failing_service"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            code = process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    output = log.read_text()
    assert code == 1, output
    assert '"event": "kernel_task_failed"' in output
    assert '"task": "boom"' in output
    assert "a failure no loop planned for" in output
    assert "stopped: its boom task failed" in output
    assert '"event": "service_stopped"' in output  # the orderly stop ran first
