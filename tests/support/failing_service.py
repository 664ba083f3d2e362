"""A service process whose one background job fails once it serves: `python -m` this with the
kernel's settings in the environment (LVYUE_*), to see what a failed kernel task does to a
real process."""

from __future__ import annotations

import asyncio

from lvyue.common.app import create_app, run_service
from lvyue.common.bootstrap import Kernel
from lvyue.common.settings import KernelSettings

FAILS_AFTER_S = 1.0


async def boom(kernel: Kernel, stop: asyncio.Event) -> None:
    await asyncio.sleep(FAILS_AFTER_S)
    raise RuntimeError("a failure no loop planned for")


if __name__ == "__main__":
    run_service(
        KernelSettings(),
        lambda settings: create_app(settings, title="failing", routers=[], background=[boom]),
    )
