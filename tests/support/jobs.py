"""A periodic job run in the test's own loop, on just what its steps read of a kernel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.common.clock import SystemClock
from lvyue.common.db import make_session_factory

Job = Callable[[Any, asyncio.Event], Coroutine[Any, Any, None]]


@asynccontextmanager
async def running(job: Job, engine: AsyncEngine) -> AsyncIterator[None]:
    """`job` running against `engine` (its sessions, the system clock) until the block ends."""
    kernel = SimpleNamespace(sessions=make_session_factory(engine), clock=SystemClock())
    stop = asyncio.Event()
    task = asyncio.create_task(job(kernel, stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
