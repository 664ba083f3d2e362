"""The load of a chaos run: signed orders with duplicate deliveries, a warehouse confirming
dispatches, and kill -9 of one process at a time with its recovery measured. Loopback only;
every loop is bounded in count and time."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import psutil

from lvyue.cli.bench.orders import WEBHOOK_PATH, OrderFactory, sign
from lvyue.cli.chaos.faults import FaultKind, PlannedFault
from lvyue.cli.chaos.findings import shipment_requested
from lvyue.cli.demo.warehouse import CARRIERS, tracking_number
from lvyue.order_review.platforms.canonical import DELIVERY_HEADER

ATTEMPT_TIMEOUT_S = 10.0  # one webhook POST
ORDER_LIMIT_S = 120.0  # retries of one order until 2xx, like a platform's retry window
RECOVERY_LIMIT_S = 90.0  # a fault's recovery is given up (and reported) after this long
PICK_PAGE = 500


@dataclass
class Order:
    body: bytes
    delivery: str  # X-Lvyue-Delivery: the same on a retry of this delivery
    lines: int
    order_id: str | None = None


@dataclass
class Tally:
    posted: int = 0  # orders sent (probes included)
    probes: int = 0  # of which sent to measure a recovery
    accepted: dict[str, int] = field(default_factory=dict)  # order id -> its lines
    unanswered: int = 0  # orders never answered 2xx within ORDER_LIMIT_S
    refused: Counter[str] = field(default_factory=Counter)  # non-2xx answers, by code or error
    redeliveries: int = 0
    redeliveries_same_order: int = 0
    dispatched: set[str] = field(default_factory=set)  # shipment ids confirmed
    dispatch_refused: Counter[str] = field(default_factory=Counter)


@dataclass
class Injected:
    kind: FaultKind
    target: str
    planned_at_s: float
    at_s: float  # after the first order was sent
    pid: int | None
    intake_s: float | None = None  # kill -9 to the first 2xx of intake
    ready_s: float | None = None  # kill -9 to every process's /readyz 200
    pipeline_s: float | None = None  # kill -9 to the first order after it having its shipment
    note: str = ""

    def to_dict(self) -> dict[str, object]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, 2)

        return {
            "kind": str(self.kind), "target": self.target, "pid": self.pid,
            "planned_at_s": r(self.planned_at_s), "at_s": r(self.at_s),
            "intake_2xx_s": r(self.intake_s), "all_ready_s": r(self.ready_s),
            "pipeline_s": r(self.pipeline_s), "note": self.note,
        }  # fmt: skip


class Driver:
    """Posts orders to intake until each is answered 2xx, some of them delivered twice."""

    def __init__(
        self,
        intake_url: str,
        secret: str,
        factory: OrderFactory,
        *,
        duplicate_rate: float,
        seed: int,
    ) -> None:
        self.url = intake_url + WEBHOOK_PATH
        self.secret = secret
        self.factory = factory
        self.duplicate_rate = duplicate_rate
        self.rng = random.Random(seed)
        self.tally = Tally()
        self.http = httpx.AsyncClient(
            timeout=ATTEMPT_TIMEOUT_S, limits=httpx.Limits(max_connections=64)
        )

    async def close(self) -> None:
        await self.http.aclose()

    def new_order(self) -> Order:
        order = self.factory.order()
        body = json.dumps(order, ensure_ascii=False, separators=(",", ":")).encode()
        return Order(body, uuid.uuid4().hex, len(order["lines"]))

    async def _post(self, order: Order, delivery: str, timeout_s: float) -> str | None:
        """One attempt; the order id of a 2xx answer, else None (the refusal is counted)."""
        headers = sign(order.body, self.secret)
        headers[DELIVERY_HEADER] = delivery
        try:
            response = await self.http.post(
                self.url, content=order.body, headers=headers, timeout=timeout_s
            )
        except httpx.HTTPError as exc:
            self.tally.refused[type(exc).__name__] += 1
            return None
        if 200 <= response.status_code < 300:
            return str(response.json()["order_id"])
        self.tally.refused[str(response.status_code)] += 1
        return None

    async def deliver(
        self, order: Order, *, limit_s: float = ORDER_LIMIT_S, timeout_s: float = ATTEMPT_TIMEOUT_S
    ) -> str | None:
        """Posts (the same delivery again on failure) until 2xx, for at most `limit_s`."""
        deadline = time.monotonic() + limit_s
        pause = 0.1
        while time.monotonic() < deadline:
            order_id = await self._post(order, order.delivery, timeout_s)
            if order_id is not None:
                order.order_id = order_id
                self.tally.accepted.setdefault(order_id, order.lines)  # a duplicate: no lines
                return order_id
            await asyncio.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause = min(pause * 2, 1.0)
        return None

    async def one(self, *, probe: bool = False, limit_s: float = ORDER_LIMIT_S) -> str | None:
        """A new order to 2xx, then maybe a duplicate delivery (same or new delivery id)."""
        order = self.new_order()
        self.tally.posted += 1
        self.tally.probes += probe
        timeout_s = 2.0 if probe else ATTEMPT_TIMEOUT_S
        order_id = await self.deliver(order, limit_s=limit_s, timeout_s=timeout_s)
        if order_id is None:
            self.tally.unanswered += 1
            return None
        if not probe and self.rng.random() < self.duplicate_rate:
            same_delivery = self.rng.random() < 0.5
            again = Order(order.body, order.delivery if same_delivery else uuid.uuid4().hex, 0)
            self.tally.redeliveries += 1
            if await self.deliver(again) == order_id:
                self.tally.redeliveries_same_order += 1
        return order_id

    async def send(self, count: int, *, rate: float, concurrency: int, stop: asyncio.Event) -> None:
        """`count` orders at `rate` per second (0: as fast as `concurrency` allows)."""
        gate = asyncio.Semaphore(concurrency)
        started = time.monotonic()

        async def bounded() -> None:
            try:
                await self.one()
            finally:
                gate.release()

        tasks = []
        for i in range(count):
            if stop.is_set():
                break
            if rate > 0:
                await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
            await gate.acquire()
            tasks.append(asyncio.create_task(bounded()))
        await asyncio.gather(*tasks)


async def all_ready(urls: Mapping[str, str], *, limit_s: float) -> list[str]:
    """Waits until every process answers /readyz 200; those that did not within `limit_s`."""
    deadline = time.monotonic() + limit_s
    waiting = dict(urls)
    async with httpx.AsyncClient(timeout=2.0) as client:
        while waiting and time.monotonic() < deadline:
            for name, url in list(waiting.items()):
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{url}/readyz")).status_code == 200:
                        del waiting[name]
            if waiting:
                await asyncio.sleep(0.2)
    return sorted(waiting)


@dataclass
class Targets:
    """Where the processes of one `lvyue run` are, to kill them."""

    run_pid: int
    services: Mapping[str, str]  # process name -> its URL (its port finds its pid)
    pgdata: Path
    server_url: str  # PostgreSQL: where a probe order's shipment is looked for

    def pid(self, fault: PlannedFault) -> int | None:
        if fault.kind is FaultKind.POSTGRES:
            with contextlib.suppress(OSError, ValueError, IndexError):
                return int((self.pgdata / "postmaster.pid").read_text().splitlines()[0])
            return None
        children = _children(self.run_pid)
        if fault.kind is FaultKind.BROKER:
            return next((p.pid for p in children if _named(p, "tansu")), None)
        port = str(urlsplit(self.services[fault.target]).port)
        for child in children:
            with contextlib.suppress(psutil.Error):
                if child.environ().get("LVYUE_HTTP_PORT") == port:
                    return int(child.pid)
        return None


def _children(pid: int) -> list[psutil.Process]:
    try:
        return list(psutil.Process(pid).children())
    except psutil.Error:
        return []


def _named(process: psutil.Process, part: str) -> bool:
    try:
        return part in process.name().lower()
    except psutil.Error:
        return False


async def inject(
    plan: list[PlannedFault],
    driver: Driver,
    targets: Targets,
    *,
    started: float,
    say: Callable[[str], None],
    deadline: float,
    done: list[Injected],
    wait_for_pipeline: bool = True,
) -> list[Injected]:
    """Each planned fault at its time, one at a time: kill -9 (kill -STOP for a hang), then
    intake probed with new
    orders until one is answered 2xx, then every /readyz until 200, before the next. Each
    fault is appended to `done` as it is injected. With `wait_for_pipeline`, the next also waits
    for that probe order's shipment (every consumer back), else only for intake and /readyz."""
    for fault in plan:
        wait = started + fault.at_s - time.monotonic()
        if wait > 0:
            await asyncio.sleep(min(wait, max(0.0, deadline - time.monotonic())))
        if time.monotonic() >= deadline:
            say(f"[yellow]timeout: {len(plan) - len(done)} planned faults not injected[/]")
            break
        pid = targets.pid(fault)
        at = time.monotonic()
        record = Injected(fault.kind, fault.target, fault.at_s, at - started, pid)
        done.append(record)
        if pid is None:
            record.note = "process not found"
            say(f"[red]fault {len(done)}: no pid found for {fault.target}[/]")
            continue
        hang = fault.kind is FaultKind.HANG
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGSTOP if hang else signal.SIGKILL)
        say(
            f"fault {len(done)}/{len(plan)}: kill -{'STOP' if hang else '9'} {fault.target}"
            f" (pid {pid}) at {at - started:.1f}s"
        )
        probe = await driver.one(probe=True, limit_s=RECOVERY_LIMIT_S)
        if probe is not None:
            record.intake_s = time.monotonic() - at
        unready = await all_ready(targets.services, limit_s=RECOVERY_LIMIT_S)
        if unready:
            record.note = f"not ready after {RECOVERY_LIMIT_S:g}s: {', '.join(unready)}"
        else:
            record.ready_s = time.monotonic() - at
        if wait_for_pipeline and probe is not None:
            if await _shipped(targets.server_url, probe, RECOVERY_LIMIT_S):
                record.pipeline_s = time.monotonic() - at
            else:
                record.note = f"the probe order had no shipment after {RECOVERY_LIMIT_S:g}s"
        through = (
            f", an order through to its shipment after {_secs(record.pipeline_s)}"
            if wait_for_pipeline
            else ""
        )
        say(
            f"  {fault.target}: intake 2xx after {_secs(record.intake_s)}, every process ready"
            f" after {_secs(record.ready_s)}{through}"
        )
    return done


def _secs(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f}s"


async def _shipped(server_url: str, order_id: str, limit_s: float) -> bool:
    """Waits until fulfilment has the order's shipment: every consumer on its way ran."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, asyncpg.PostgresError):
            if await shipment_requested(server_url, order_id):
                return True
        await asyncio.sleep(0.25)
    return False


async def warehouse(
    fulfilment_url: str, token: str, tally: Tally, stop: asyncio.Event, *, interval_s: float = 1.0
) -> None:
    """Reads the pick list and confirms each pending shipment's dispatch, as a warehouse does,
    until `stop`; a refused or failed call is tried again on the next pass."""
    rng = random.Random(0)
    headers = {"Authorization": f"Bearer {token}", "X-Operator": "wh-chaos"}
    async with httpx.AsyncClient(base_url=fulfilment_url, headers=headers, timeout=10.0) as client:

        async def dispatch(shipment_id: str, n: int) -> None:
            carrier = CARRIERS[n % len(CARRIERS)]
            body = {"carrier_code": carrier, "tracking_number": tracking_number(carrier, rng),
                    "dispatched_at": datetime.now(UTC).isoformat()}  # fmt: skip
            try:
                response = await client.post(f"/shipments/{shipment_id}/dispatch", json=body)
            except httpx.HTTPError as exc:
                tally.dispatch_refused[type(exc).__name__] += 1
                return
            if response.status_code == 200:
                tally.dispatched.add(shipment_id)
            else:
                tally.dispatch_refused[str(response.status_code)] += 1

        while not stop.is_set():
            try:
                page = await client.get(
                    "/shipments", params={"status": "pending", "limit": PICK_PAGE}
                )
                items = page.json()["items"] if page.status_code == 200 else []
            except (httpx.HTTPError, ValueError, KeyError):
                items = []
            for start in range(0, len(items), 8):
                chunk = items[start : start + 8]
                await asyncio.gather(
                    *(dispatch(str(s["id"]), start + i) for i, s in enumerate(chunk))
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval_s)
