"""The demo from start to end: stock, orders, then warehouse / operator passes until done."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from rich.console import Console

from lvyue.cli.demo.client import Services
from lvyue.cli.demo.intake import Intake, post_orders, stock
from lvyue.cli.demo.operators import Desk, work_abnormal_queue, work_aftersales
from lvyue.cli.demo.warehouse import Warehouse, work_pick_list

PASS_INTERVAL_S = 1.5
QUIET_S = 10.0  # nothing new for this long after the last order: the demo is done early


@dataclass
class DemoResult:
    orders: int
    abnormal_seen: int
    dispatched: int
    cases: int


def run_demo(
    svc: Services,
    console: Console,
    *,
    orders: int,
    duration_s: float,
    warehouse: str,
    seed: int | None = None,
) -> DemoResult:
    started = time.monotonic()
    deadline = started + duration_s
    run_id = time.strftime("%Y%m%d%H%M%S")
    rng = random.Random(seed)
    down = svc.unready()
    if down:
        console.print(
            f"[red]not ready: {', '.join(down)}[/] — start the system with `make run` "
            "(or `lvyue run`) and pass the same --base-port"
        )
        raise SystemExit(1)
    console.rule(f"lvyue demo {run_id}: {orders} orders, at most {duration_s:g} s")
    stock(svc, console, warehouse, run_id)
    intake, wh, desk = Intake(), Warehouse(), Desk()
    # Orders arrive over the first third of the time, so `lvyue status` visibly moves.
    post_orders(svc, console, intake, orders, rng, spread_s=min(duration_s / 3, orders * 0.3))
    last_change = time.monotonic()
    while time.monotonic() < deadline:
        before = (len(wh.dispatched), len(desk.cases), desk.queue_seen, _steps(desk))
        work_pick_list(svc, console, intake, wh, warehouse, rng)
        work_abnormal_queue(svc, console, intake, desk)
        work_aftersales(svc, console, intake, wh, desk)
        if (len(wh.dispatched), len(desk.cases), desk.queue_seen, _steps(desk)) != before:
            last_change = time.monotonic()
        elif desk.settled() and time.monotonic() - last_change > QUIET_S:
            break
        time.sleep(min(PASS_INTERVAL_S, max(0.0, deadline - time.monotonic())))
    result = DemoResult(len(intake.posted), desk.queue_seen, len(wh.dispatched), len(desk.cases))
    _summary(svc, console, result, wh, desk, time.monotonic() - started)
    return result


def _steps(desk: Desk) -> tuple[str, ...]:
    return tuple(str(c["state"]) for c in desk.cases.values())


def _summary(
    svc: Services, console: Console, r: DemoResult, wh: Warehouse, desk: Desk, took: float
) -> None:
    refunded = sum(1 for c in desk.cases.values() if c["state"] == "refunded")
    console.rule(f"done in {took:.0f} s")
    # Every count is something this run did and the service accepted, or saw.
    console.print(
        f"{r.orders} orders posted, {r.abnormal_seen} in the abnormal queue "
        f"({len(desk.contacted)} buyers contacted, {len(desk.left_uncontacted)} left "
        f"uncontacted, {len(desk.corrected)} address corrected, {len(desk.accepted)} findings "
        f"accepted), {r.dispatched} dispatched ({wh.late} late, {len(wh.held)} left on the pick "
        f"list, {len(wh.replaced)} exchange replacements besides), "
        f"{r.cases} after-sale cases ({refunded} refunded)"
    )
    base = "" if svc.base_port is None else f" --base-port {svc.base_port}"
    console.print("\n[bold]What to look at now[/]")
    console.print(f"  lvyue status{base}        live SLA compliance, open / at-risk / breached")
    console.print(f"  curl -H 'Authorization: Bearer {svc.ops_token}' {svc.review}/abnormal-orders")
    console.print(
        f"  curl -H 'Authorization: Bearer {svc.warehouse_token}' "
        f"'{svc.fulfilment}/shipments?status=pending'"
    )
    console.print(f"  curl -H 'Authorization: Bearer {svc.ops_token}' {svc.aftersales}/aftersales")
    for name in ("order-review", "inventory", "fulfilment", "aftersales"):
        console.print(f"  {svc.url(name)}/metrics   ({name})")
    console.print("  Re-run `lvyue demo` any time: every run posts fresh platform order ids.")
