"""Bounded waiting for asynchronous outcomes (consumers, scanners) in tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    accept: Callable[[T], bool],
    *,
    timeout_s: float = 20.0,
    interval_s: float = 0.1,
) -> T:
    """Calls `probe` until `accept` likes its result; after the timeout, fails with the last."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = await probe()
        if accept(value):
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"not reached within {timeout_s}s; last value: {value!r}")
        await asyncio.sleep(interval_s)
