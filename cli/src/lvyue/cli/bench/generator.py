"""The two load generators behind one call: wrk replaying pre-signed webhooks (wrk.py), or the
Python one (load.py) that signs as it sends and costs the bench process a core at full speed."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from lvyue.cli.bench import wrk
from lvyue.cli.bench.load import LoadCounters, LoadPlan, LoadResult, generate_load
from lvyue.cli.bench.orders import OrderFactory

Fire = Callable[[LoadCounters], Awaitable[LoadResult]]


@contextlib.asynccontextmanager
async def ready(kind: str, plan: LoadPlan, factory: OrderFactory) -> AsyncIterator[Fire]:
    """One phase's load, ready to fire. wrk's webhooks are signed here, before the phase, so
    signing them is not part of what the phase measures."""
    if kind == "python":

        async def fire_python(counters: LoadCounters) -> LoadResult:
            return await generate_load(plan, factory, counters=counters)

        yield fire_python
        return
    with tempfile.TemporaryDirectory(prefix="lvyue-wrk-") as directory:
        replay = await asyncio.to_thread(wrk.prepare, plan, factory, Path(directory))

        async def fire_wrk(counters: LoadCounters) -> LoadResult:
            return await asyncio.to_thread(wrk.run, replay, counters=counters)

        yield fire_wrk
