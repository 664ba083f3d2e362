"""Progress bars fed by a probe while a phase runs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from rich.progress import Progress

Probe = Callable[[], tuple[float, str]]  # (completed, note)


@contextlib.asynccontextmanager
async def ticking(
    progress: Progress, title: str, total: float, probe: Probe
) -> AsyncIterator[None]:
    """A progress bar fed by `probe` four times a second while the block runs."""
    task_id = progress.add_task(title, total=total)

    def update() -> None:
        done, note = probe()
        progress.update(task_id, completed=min(done, total), description=f"{title} {note}")

    async def tick() -> None:
        while True:
            update()
            await asyncio.sleep(0.25)

    ticker = asyncio.create_task(tick())
    try:
        yield
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        update()
        progress.update(task_id, completed=total)
