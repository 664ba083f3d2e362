"""Console bench: the operators' pages with many abnormal orders in the queue.

Posts `orders` signed webhooks whose remark needs a human (each lands in the abnormal queue),
waits until order-review's queue holds them, signs in to the console as an operator and opens
each page `requests` times, one after another as one operator's browser would, the rows its
poll fetches too. Reports p50 / p95 / p99 per page; the target is the slowest page's p95.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from lvyue.cli.bench.orders import OrderFactory, Sku, signed_webhook
from lvyue.cli.bench.report import latency_summary

# A remark keyword of order-review's defaults: the order waits for a human (remark_needs_human).
ABNORMAL_REMARK = "买家备注：请开增值税发票"
WARMUP = 3  # requests per page before timing: templates compiled, connections open

Progress = Callable[[str, float, float], None]  # (what, done, total)


@dataclass(frozen=True)
class ConsolePlan:
    orders: int
    requests: int
    concurrency: int = 16
    queue_timeout_s: float = 600.0


@dataclass(frozen=True)
class ConsoleTarget:
    console_url: str
    intake_url: str
    review_url: str
    webhook_secret: str
    ops_token: str


async def run_console_bench(
    target: ConsoleTarget, skus: list[Sku], plan: ConsolePlan, progress: Progress
) -> dict[str, Any]:
    started = time.monotonic()
    posted = await seed_abnormal(target, skus, plan, progress)
    queued = await wait_queued(target, posted, plan.queue_timeout_s, progress)
    seeded_s = time.monotonic() - started
    async with httpx.AsyncClient(base_url=target.console_url, timeout=30.0) as client:
        await sign_in(client, target.ops_token)
        pages = await pages_to_time(client, target, queued)
        timings: dict[str, dict[str, Any]] = {}
        for n, (name, (path, headers)) in enumerate(pages.items()):
            progress(f"console: {name}", n, len(pages))
            timings[name] = latency_summary(await time_page(client, path, headers, plan))
        progress("console", len(pages), len(pages))
    worst = max((t["p95_ms"] for t in timings.values() if t["p95_ms"] is not None), default=None)
    return {
        "abnormal_orders_posted": posted,
        "queue_total": queued,
        "seed_s": round(seeded_s, 1),
        "requests_per_page": plan.requests,
        "pages": timings,
        "slowest_p95_ms": worst,
    }


async def _post_webhook(
    client: httpx.AsyncClient, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    """One webhook, sent again (it is idempotent: the same delivery) when the connection
    drops: ten thousand of them must not fail on one reset keep-alive connection."""
    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type(httpx.TransportError),
        stop=stop_after_attempt(4),
        wait=wait_exponential_jitter(multiplier=0.1, max=2.0, jitter=0.1),
        reraise=True,
    ):
        with attempt:
            return await client.post("/webhooks/lvyue/orders", content=body, headers=headers)
    raise AssertionError("unreachable: the last attempt returns or raises")


async def seed_abnormal(
    target: ConsoleTarget, skus: list[Sku], plan: ConsolePlan, progress: Progress
) -> int:
    """Posts the orders, `concurrency` at a time; returns how many intake accepted (201)."""
    factory = _AbnormalFactory(skus)
    accepted = 0
    sent = 0
    lock = asyncio.Lock()

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal accepted, sent
        while True:
            async with lock:
                if sent >= plan.orders:
                    return
                sent += 1
                body, headers, _ = signed_webhook(factory, target.webhook_secret)
            response = await _post_webhook(client, body, headers)
            if response.status_code in (200, 201):  # 200: a retry of one accepted before
                accepted += 1
            if accepted % 250 == 0:
                progress("console: abnormal orders posted", accepted, plan.orders)

    async with httpx.AsyncClient(base_url=target.intake_url, timeout=30.0) as client:
        await asyncio.gather(*(worker(client) for _ in range(plan.concurrency)))
    progress("console: abnormal orders posted", accepted, plan.orders)
    return accepted


class _AbnormalFactory(OrderFactory):
    def order(self, now: Any = None) -> dict[str, Any]:
        return super().order(now) | {"remarks": ABNORMAL_REMARK}


async def wait_queued(
    target: ConsoleTarget, posted: int, timeout_s: float, progress: Progress
) -> int:
    """Until order-review's abnormal queue holds at least the posted orders; its total."""
    headers = {"Authorization": f"Bearer {target.ops_token}"}
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(base_url=target.review_url, timeout=30.0) as client:
        while True:
            answer = await client.get("/abnormal-orders", params={"limit": 1}, headers=headers)
            answer.raise_for_status()
            total = int(answer.json()["total"])
            progress("console: abnormal orders reviewed", min(total, posted), posted)
            if total >= posted:
                return total
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"console bench: {total} of {posted} orders in the abnormal queue after "
                    f"{timeout_s:g} s"
                )
            await asyncio.sleep(1.0)


async def sign_in(client: httpx.AsyncClient, token: str) -> None:
    form = await client.get("/sign-in")
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', form.text)
    if found is None:
        raise RuntimeError("console bench: the sign-in page carries no CSRF token")
    data = {"csrf_token": found.group(1), "token": token, "operator": "bench"}
    answer = await client.post("/sign-in", data=data)
    if answer.status_code != 303:
        raise RuntimeError(f"console bench: sign-in answered {answer.status_code}")


async def pages_to_time(
    client: httpx.AsyncClient, target: ConsoleTarget, queued: int
) -> dict[str, tuple[str, dict[str, str]]]:
    """Each page as an operator opens it: the queue's first and last page, its polled rows, an
    order, the pick list, the cases and the SLA board."""
    async with httpx.AsyncClient(base_url=target.review_url, timeout=30.0) as review:
        first = await review.get(
            "/abnormal-orders",
            params={"limit": 1},
            headers={"Authorization": f"Bearer {target.ops_token}"},
        )
    order_id = first.json()["items"][0]["order_id"]
    last = max(0, queued - 50)
    poll = {"HX-Request": "true"}
    return {
        "queue (first page)": ("/queue", {}),
        f"queue (offset {last:,})": (f"/queue?offset={last}", {}),
        "queue rows (poll)": ("/queue", poll),
        "order": (f"/orders/{order_id}", {}),
        "pick list": ("/pick-list", {}),
        "after-sale cases": ("/cases", {}),
        "SLA board": ("/board", {}),
    }


async def time_page(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], plan: ConsolePlan
) -> list[float]:
    """Seconds per answer, after the warm-up; a non-200 answer fails the bench."""
    seconds: list[float] = []
    for n in range(WARMUP + plan.requests):
        started = time.perf_counter()
        answer = await client.get(path, headers=headers)
        elapsed = time.perf_counter() - started
        if answer.status_code != 200:
            raise RuntimeError(f"console bench: {path} answered {answer.status_code}")
        if n >= WARMUP:
            seconds.append(elapsed)
    return seconds
