"""A service process whose event loop can be blocked for good: `python -m` this with the
kernel's settings in the environment (LVYUE_*), then GET /block, to see what the loop watchdog
does to a real process."""

from __future__ import annotations

import time

from lvyue.common.app import create_app, run_service
from lvyue.common.routing import api_router
from lvyue.common.settings import KernelSettings

router = api_router()


@router.get("/block")
async def block() -> None:
    time.sleep(600)  # noqa: ASYNC251  # what the watchdog is for: the loop blocked


if __name__ == "__main__":
    run_service(
        KernelSettings(), lambda settings: create_app(settings, title="hanging", routers=[router])
    )
