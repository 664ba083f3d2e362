"""The load generator: signed order webhooks at a target rate (or flat out), bounded concurrency.

Every loop is bounded in count and time. At a fixed rate, sends keep their schedule while a
connection is free; when all are busy the send waits and the wait is reported as slip (so a
slow server cannot hide its latency behind a slowed-down client).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import ssl
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from lvyue.cli.bench.orders import WEBHOOK_PATH, OrderFactory, signed_webhook


@dataclass(slots=True)
class Sent:
    sent_at: float  # epoch seconds, just before the request went out
    latency_s: float
    slip_s: float  # how late the send was against its schedule
    status: int  # 0 when no response came
    order_id: str | None
    error: str | None


@dataclass
class LoadResult:
    started_at: float = 0.0  # epoch seconds
    finished_at: float = 0.0
    sends: list[Sent] = field(default_factory=list)
    generator: str = "python"
    generator_cpu_s: float | None = None  # what generating the load cost, when measured
    generator_stats: dict[str, Any] = field(default_factory=dict)  # the generator's own view

    @property
    def accepted(self) -> list[Sent]:
        return [s for s in self.sends if s.order_id is not None and s.error is None]

    @property
    def duration_s(self) -> float:
        return max(0.0, self.finished_at - self.started_at)


@dataclass
class LoadCounters:
    """Live numbers for the progress bar."""

    sent: int = 0
    ok: int = 0
    failed: int = 0


@dataclass(frozen=True)
class LoadPlan:
    url: str  # the service's base URL
    secret: str
    concurrency: int
    rate: float  # webhooks per second, 0 = as fast as the server answers
    duration_s: float
    max_orders: int
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        if urlsplit(self.url).hostname != "127.0.0.1":
            raise ValueError(f"the bench only loads 127.0.0.1, not {self.url}")
        if self.concurrency < 1 or self.max_orders < 1 or self.duration_s <= 0:
            raise ValueError("concurrency, orders and duration must be positive")


def skip_failed_sniffio_imports() -> None:
    """httpcore imports sniffio each time it sets up a lock or event; without sniffio installed
    (anyio >= 4.11 no longer brings it) every request pays failed imports that walk sys.path:
    a quarter of the load generator's CPU (encode/httpcore#1102). Recording sniffio as absent
    makes those imports fail at once, with the same outcome."""
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


def error_kind(exc: BaseException) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connect_error"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "connection_dropped"
    return type(exc).__name__


async def generate_load(
    plan: LoadPlan,
    factory: OrderFactory,
    *,
    counters: LoadCounters | None = None,
    on_sent: Callable[[Sent], None] | None = None,
) -> LoadResult:
    """Posts up to `max_orders` webhooks for at most `duration_s`; waits for the stragglers."""
    skip_failed_sniffio_imports()
    counters = counters or LoadCounters()
    # The whole bench process: the Kafka follower and the sampler run on the same loop.
    cpu_before = time.process_time()
    result = LoadResult(started_at=time.time())
    # One client per connection: httpcore's CPU per request grows with the size of its pool
    # (measured: 1.3 ms per webhook with 32 one-connection clients, 4.6 ms with one client of
    # 32 connections). The connection limit is the same: `concurrency` in all.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    tls = ssl.create_default_context()  # unused over http, but each client would load its own
    free: asyncio.Queue[int] = asyncio.Queue()
    for slot in range(plan.concurrency):
        free.put_nowait(slot)
    loop = asyncio.get_running_loop()
    target = plan.url.rstrip("/") + WEBHOOK_PATH

    async def send(client: httpx.AsyncClient, slot: int, scheduled: float) -> None:
        try:
            body, headers, _ = signed_webhook(factory, plan.secret)
            slip = max(0.0, loop.time() - scheduled)
            sent_at, started = time.time(), time.perf_counter()
            status, order_id, error = 0, None, None
            try:
                response = await client.post(target, content=body, headers=headers)
                status = response.status_code
                if status == 201:
                    order_id = str(response.json()["order_id"])
                else:
                    error = "duplicate" if status == 200 else f"http_{status}"
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                error = error_kind(exc)
            sent = Sent(sent_at, time.perf_counter() - started, slip, status, order_id, error)
            result.sends.append(sent)
            counters.sent += 1
            if error is None:
                counters.ok += 1
            else:
                counters.failed += 1
            if on_sent is not None:
                on_sent(sent)
        finally:
            free.put_nowait(slot)

    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(limits=limits, timeout=plan.timeout_s, verify=tls)
            )
            for _ in range(plan.concurrency)
        ]
        tasks: set[asyncio.Task[None]] = set()
        start = loop.time()
        end = start + plan.duration_s
        for index in range(plan.max_orders):
            scheduled = start + index / plan.rate if plan.rate > 0 else loop.time()
            if scheduled >= end or loop.time() >= end:
                break
            if scheduled > loop.time():
                await asyncio.sleep(scheduled - loop.time())
            slot = await free.get()
            task = asyncio.create_task(send(clients[slot], slot, scheduled))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(set(tasks), timeout=plan.timeout_s + 5)
        for task in tasks:
            task.cancel()
    result.finished_at = time.time()
    result.generator_cpu_s = time.process_time() - cpu_before
    result.generator_stats = {"cpu_includes": "the whole bench process (Kafka follower too)"}
    return result
