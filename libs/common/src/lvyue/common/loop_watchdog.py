"""A process whose event loop stops turning ends itself, with every thread's stack on stderr.

A service's work all runs on one event loop: a call that blocks it for good (a sync client
without a timeout, a deadlock in a C extension) leaves a process that neither works nor
exits, and a supervisor that only watches exits (Docker's restart policy, systemd) never
starts it again. The loop re-arms `faulthandler.dump_traceback_later` every quarter of
`LVYUE_LOOP_WATCHDOG_S`; once the loop has not turned for that long, faulthandler's own thread
prints where every thread stands and exits the process with code 1, as kill -9 would end it
(what it had not committed is done again after the restart)."""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import sys
from collections.abc import AsyncIterator


@contextlib.asynccontextmanager
async def loop_watchdog(seconds: float) -> AsyncIterator[None]:
    """Watches the running loop while the block runs; `seconds` 0 watches nothing."""
    if seconds <= 0:
        yield
        return
    task = asyncio.create_task(_rearm(seconds), name="loop watchdog")
    try:
        yield
    finally:
        task.cancel()
        faulthandler.cancel_dump_traceback_later()


async def _rearm(seconds: float) -> None:
    while True:
        # One timer per process: arming it again cancels the previous one.
        faulthandler.dump_traceback_later(seconds, exit=True, file=sys.stderr)
        await asyncio.sleep(seconds / 4)
