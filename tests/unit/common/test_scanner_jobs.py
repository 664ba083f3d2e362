"""The scanner's jobs: the breach scan runs on its own pace while a gauge count is slow."""

from __future__ import annotations

import asyncio
from typing import Any

from lvyue.common.deadlines.scanner import DeadlineScanner
from lvyue.common.deadlines.store import Deadline


class SlowGauges(DeadlineScanner):
    """Scans that find nothing, counted; a gauge refresh that never ends; no forecast."""

    def __init__(self) -> None:
        super().__init__(
            None,  # type: ignore[arg-type]  # no step here opens a unit of work
            service="test", interval_s=0.01, gauge_interval_s=0.01, forecast_interval_s=60,
        )  # fmt: skip
        self.scans = 0
        self.gauges_started = asyncio.Event()

    async def scan_once(self) -> list[Deadline]:
        self.scans += 1
        return []

    async def refresh_gauges(self) -> None:
        self.gauges_started.set()
        await asyncio.Event().wait()

    async def forecast_step(self) -> Any:
        return None


async def test_a_gauge_count_that_takes_long_does_not_hold_up_the_breach_scan() -> None:
    scanner = SlowGauges()
    stop = asyncio.Event()
    running = asyncio.create_task(scanner.run(stop))
    await asyncio.wait_for(scanner.gauges_started.wait(), timeout=5)
    scans_then = scanner.scans
    for _ in range(500):  # bounded: 5 s at most
        if scanner.scans >= scans_then + 5:
            break
        await asyncio.sleep(0.01)
    assert scanner.scans >= scans_then + 5  # five more scans while the count still runs
    stop.set()
    running.cancel()  # the stuck count never returns by itself
    await asyncio.gather(running, return_exceptions=True)
