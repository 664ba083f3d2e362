"""The periodic-job primitive: runs on its interval, survives a failed run, drains, stops."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from itertools import pairwise
from typing import Any

import pytest

from lvyue.common.jobs import every, every_holding
from tests.support.metrics import metric


async def _run(job: Any, seconds: float) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(job(object(), stop))
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.wait_for(task, 1.0)  # stops at once, mid-pause


async def test_a_failed_run_is_counted_and_logged_and_the_job_goes_on() -> None:
    calls: list[int] = []

    async def flaky(kernel: object) -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("database hiccup")

    before = metric("lvyue_job_runs_total", job_name="flaky_test_job", outcome="failed")
    await _run(every(0.05, flaky, name="flaky_test_job"), 0.3)
    assert len(calls) >= 3
    assert metric("lvyue_job_runs_total", job_name="flaky_test_job", outcome="failed") - before == 1
    assert metric("lvyue_job_runs_total", job_name="flaky_test_job", outcome="ok") >= 2


async def test_drain_runs_again_at_once_while_there_is_more() -> None:
    batches = [True, True, True, False]
    calls: list[float] = []

    async def batch(kernel: object) -> bool:
        calls.append(asyncio.get_running_loop().time())
        return batches.pop(0) if batches else False

    await _run(every(10.0, batch, drain=True, name="drain_test_job"), 0.2)
    assert len(calls) == 4  # three full batches drained, then the 10 s pause
    assert calls[3] - calls[0] < 0.1


async def test_a_paced_drain_rests_as_long_as_each_run_took() -> None:
    batches = [True, True, True, False]
    runs: list[tuple[float, float]] = []

    async def slow_batch(kernel: object) -> bool:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.sleep(0.05)
        runs.append((started, loop.time()))
        return batches.pop(0) if batches else False

    await _run(every(10.0, slow_batch, drain=True, pace=True, name="paced_test_job"), 0.6)
    assert len(runs) == 4  # three full batches, each followed by its rest, then the 10 s pause
    for (started, ended), (next_started, _) in pairwise(runs):
        assert next_started - ended >= 0.9 * (ended - started)


async def test_a_paced_rest_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lvyue.common.jobs.PACE_CAP_S", 0.02)
    batches = [True, False]
    runs: list[tuple[float, float]] = []

    async def long_batch(kernel: object) -> bool:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.sleep(0.2)
        runs.append((started, loop.time()))
        return batches.pop(0) if batches else False

    await _run(every(10.0, long_batch, drain=True, pace=True, name="paced_cap_job"), 0.6)
    assert len(runs) == 2
    assert runs[1][0] - runs[0][1] < 0.15  # the cap's rest, not the 0.2 s the run took


async def test_a_stop_ends_a_paced_rest_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lvyue.common.jobs.PACE_CAP_S", 30.0)
    calls: list[float] = []

    async def long_batch(kernel: object) -> bool:
        calls.append(asyncio.get_running_loop().time())
        await asyncio.sleep(0.2)  # the rest after it would be as long
        return True

    stop = asyncio.Event()
    task = asyncio.create_task(
        every(10.0, long_batch, drain=True, pace=True, name="paced_stop_job")(object(), stop)
    )
    await asyncio.sleep(0.25)  # in the rest after the first batch
    stop.set()
    await asyncio.wait_for(task, 0.1)
    assert len(calls) == 1


def test_pace_without_drain_is_refused() -> None:
    async def step(kernel: object) -> bool:
        return True

    with pytest.raises(ValueError, match="drain=True"):
        every(1.0, step, pace=True)


def test_a_non_positive_interval_is_refused() -> None:
    async def step(kernel: object) -> None:
        return None

    with pytest.raises(ValueError, match="interval_s"):
        every(0, step)


async def test_a_held_resource_is_opened_once_for_the_jobs_life_and_closed_at_its_stop() -> None:
    opened: list[str] = []
    closed: list[str] = []
    seen: list[str] = []

    @contextlib.asynccontextmanager
    async def client() -> AsyncIterator[str]:
        opened.append(f"client-{len(opened)}")
        yield opened[-1]
        closed.append(opened[-1])

    async def call(kernel: object, held: str) -> None:
        seen.append(held)

    await _run(every_holding(client, 0.02, call, name="holding_test_job"), 0.2)
    assert len(seen) >= 3
    assert set(seen) == {"client-0"} == set(opened) == set(closed)
    assert metric("lvyue_job_runs_total", job_name="holding_test_job", outcome="ok") >= 3
