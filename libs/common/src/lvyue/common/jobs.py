"""Periodic jobs: one primitive for "do this every N seconds until the service stops".

`every(interval_s, step)` makes a BackgroundJob that calls `step(kernel)` on a jittered
interval (replicas started together do not hit the database in step), logs and counts a
failed run without ending the job, and stops as soon as the kernel does. With `drain=True`
a run that reports more work (a truthy result, e.g. a full batch) is followed at once by the
next; with `pace=True` as well, the next waits as long as the last run took (at most
`PACE_CAP_S`), so that a long backlog, such as the first prune of a table that grew for
months, takes at most about half of one database connection's time while it lasts. A step
may take another context than the kernel: the deadline scanner's steps take the
scanner, so that a bench can run them without a service around them.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import structlog
from prometheus_client import Counter, Histogram

log = structlog.get_logger(__name__)

# `job_name`, not `job`: Prometheus's own `job` label (the scrape job) would rename it.
RUNS = Counter("lvyue_job_runs_total", "Runs of a periodic job", ["job_name", "outcome"])
RUN_SECONDS = Histogram(
    "lvyue_job_run_seconds", "Time one run of a periodic job took", ["job_name"]
)

PACE_CAP_S = 1.0  # the longest rest between two paced runs of a backlog

C = TypeVar("C")  # what a step is given: the service's Kernel, for a BackgroundJob
R = TypeVar("R")  # what a job holds for its life, e.g. an HTTP client


def every(
    interval_s: float,
    step: Callable[[C], Awaitable[object]],
    *,
    name: str | None = None,
    drain: bool = False,
    pace: bool = False,
    jitter: float = 0.1,
) -> Callable[[C, asyncio.Event], Coroutine[Any, Any, None]]:
    """A job calling `step` every `interval_s` (± `jitter` of it) until the kernel stops."""
    if interval_s <= 0:
        raise ValueError(f"interval_s must be positive, got {interval_s}")
    if pace and not drain:
        raise ValueError("pace applies to a draining job: pass drain=True with it")
    job_name = name or step.__name__
    for outcome in ("ok", "failed"):
        RUNS.labels(job_name, outcome)  # present at 0, so the first failure is an increase

    async def job(context: C, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            started = loop.time()
            more = False
            try:
                more = bool(await step(context))
                RUNS.labels(job_name, "ok").inc()
            except Exception as exc:  # a database hiccup must not end the job
                RUNS.labels(job_name, "failed").inc()
                log.warning("job_failed", job=job_name, error=repr(exc))
            RUN_SECONDS.labels(job_name).observe(loop.time() - started)
            if drain and more:
                if not pace:
                    await asyncio.sleep(0)  # let the stop and other tasks in between
                    continue
                pause = min(loop.time() - started, PACE_CAP_S)
            else:
                pause = interval_s * (1 + random.uniform(-jitter, jitter))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)

    job.__name__ = job_name
    return job


def every_holding(
    resource: Callable[[], AbstractAsyncContextManager[R]],
    interval_s: float,
    step: Callable[[C, R], Awaitable[object]],
    *,
    name: str | None = None,
    drain: bool = False,
) -> Callable[[C, asyncio.Event], Coroutine[Any, Any, None]]:
    """`every`, with one `resource()` opened for the job's life and handed to each run: an HTTP
    client made per run builds a TLS context (about 28 ms of CPU), more than an idle run."""
    job_name = name or step.__name__

    async def job(context: C, stop: asyncio.Event) -> None:
        async with resource() as held:

            async def run(ctx: C) -> object:
                return await step(ctx, held)

            await every(interval_s, run, name=job_name, drain=drain)(context, stop)

    job.__name__ = job_name
    return job
