"""The warehouse's side: read the pick list, pack, and confirm dispatches with a carrier."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from rich.console import Console

from lvyue.cli.demo.client import Services
from lvyue.cli.demo.intake import Intake

CARRIERS = ("SF", "YTO", "ZTO")
WAREHOUSE_OPERATOR = "wh-xiaozhou"
HOLD_EVERY = 7  # every 7th shipment stays on the pick list, so `lvyue status` shows open work
LATE_EVERY = 5  # every 5th is confirmed as having left after its due time, where that is past


@dataclass
class Warehouse:
    dispatched: dict[str, str] = field(default_factory=dict)  # order id → shipment id
    held: set[str] = field(default_factory=set)  # shipment ids left pending on purpose
    replaced: set[str] = field(default_factory=set)  # exchanges' replacement shipments sent
    carriers: Counter[str] = field(default_factory=Counter)
    late: int = 0
    seen: int = 0


def tracking_number(carrier: str, rng: random.Random) -> str:
    digits = "".join(rng.choice("0123456789") for _ in range(12))
    return {"SF": "SF1" + digits, "YTO": "YT" + digits[:10] + "88", "ZTO": "7" + digits[:11]}[
        carrier
    ]


def _pending(svc: Services, warehouse: str) -> list[dict[str, object]]:
    response = svc.call(
        "GET",
        f"{svc.fulfilment}/shipments",
        role="warehouse",
        params={"status": "pending", "warehouse_id": warehouse, "limit": 500},
    )
    response.raise_for_status()
    items: list[dict[str, object]] = response.json()["items"]
    return items


def work_pick_list(
    svc: Services,
    console: Console,
    intake: Intake,
    wh: Warehouse,
    warehouse: str,
    rng: random.Random,
) -> int:
    """One pass over the pick list: dispatches this run's new shipments; returns how many."""
    ours = intake.posted
    done = 0
    late = 0
    for shipment in _pending(svc, warehouse):
        shipment_id, order_id = str(shipment["id"]), str(shipment["order_id"])
        replacement = shipment.get("aftersale_id") is not None  # an exchange's second parcel
        if order_id not in ours or shipment_id in wh.held or shipment_id in wh.replaced:
            continue
        if not replacement and order_id in wh.dispatched:
            continue
        wh.seen += 1
        if wh.seen % HOLD_EVERY == 0 and not replacement:
            wh.held.add(shipment_id)
            continue
        now = datetime.now(UTC)
        due = datetime.fromisoformat(str(shipment["due_at"]))
        left_at = now - timedelta(seconds=rng.randint(5, 60))
        is_late = wh.seen % LATE_EVERY == 0 and due < now
        if is_late:
            # The parcel left after the cut-off: somewhere between the due time and now.
            left_at = due + (now - due) * rng.uniform(0.2, 0.9)
        carrier = CARRIERS[wh.seen % len(CARRIERS)]
        response = svc.call(
            "POST",
            f"{svc.fulfilment}/shipments/{shipment_id}/dispatch",
            role="warehouse",
            operator=WAREHOUSE_OPERATOR,
            json={"carrier_code": carrier, "tracking_number": tracking_number(carrier, rng),
                  "dispatched_at": left_at.isoformat()},
        )  # fmt: skip
        if response.status_code != 200:
            console.print(f"[red]dispatch[/] {shipment_id} refused {response.status_code}")
            continue
        if replacement:
            wh.replaced.add(shipment_id)
            console.print(
                f"[bold magenta]dispatch[/] replacement for after-sale {shipment['aftersale_id']}"
                f" left with {carrier}"
            )
        else:
            wh.dispatched[order_id] = shipment_id
        wh.carriers[carrier] += 1
        late += is_late
        done += 1
    wh.late += late
    if done:
        by_carrier = ", ".join(f"{c} {n}" for c, n in sorted(wh.carriers.items()))
        console.print(
            f"[bold magenta]dispatch[/] {done} parcels left ({len(wh.dispatched)} so far: "
            f"{by_carrier}; {wh.late} late; {len(wh.held)} left on the pick list)"
        )
    return done
