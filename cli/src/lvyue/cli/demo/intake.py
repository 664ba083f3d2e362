"""The shops' side: stock the warehouse, then post signed orders from every platform."""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rich.console import Console

from lvyue.cli.demo.catalog import (
    ABNORMAL_KINDS,
    ABNORMAL_LABELS,
    PRODUCTS,
    OrderSpec,
    order_spec,
)
from lvyue.cli.demo.client import Services
from lvyue.cli.demo.orders import BUILDERS, PLATFORMS, new_order_id
from lvyue.cli.demo.signing import SIGNERS


@dataclass
class Posted:
    order_id: str  # order-review's id: the same id in every service
    spec: OrderSpec


@dataclass
class Intake:
    posted: dict[str, Posted] = field(default_factory=dict)  # by order id
    refused: Counter[str] = field(default_factory=Counter)

    def by_platform_order_id(self) -> dict[str, Posted]:
        return {p.spec.platform_order_id: p for p in self.posted.values()}


def stock(svc: Services, console: Console, warehouse: str, run_id: str) -> None:
    """Creates the SKUs and tops each one's on-hand up to its demo level."""
    received = low = 0
    for product in PRODUCTS:
        put = svc.call(
            "PUT",
            f"{svc.inventory}/skus/{warehouse}/{product.sku}",
            json={"name": product.name, "safety_threshold": product.threshold},
        )
        put.raise_for_status()
        missing = product.stock - int(put.json()["on_hand"])
        if missing > 0:
            receipt = svc.call(
                "POST",
                f"{svc.inventory}/stock/receipts",
                role="warehouse",
                json={"warehouse_id": warehouse, "sku": product.sku, "quantity": missing,
                      "reference": f"DEMO-{run_id}-{product.sku}", "note": "lvyue demo 入库"},
            )  # fmt: skip
            receipt.raise_for_status()
            received += missing
        low += product.low
    console.print(
        f"[bold cyan]stock[/]    {len(PRODUCTS)} SKUs in {warehouse}, {received} units received"
        f" ({low} kept below their safety threshold: low-stock fires)"
    )


def plan(count: int, rng: random.Random) -> list[tuple[str, str | None]]:
    """(platform, abnormal kind or None) per order: every platform, about one in four abnormal."""
    kinds = list(ABNORMAL_KINDS)
    rng.shuffle(kinds)
    out: list[tuple[str, str | None]] = []
    for n in range(count):
        platform = PLATFORMS[n % len(PLATFORMS)]
        abnormal = kinds[(n // 4) % len(kinds)] if n % 4 == 2 else None
        if abnormal == "not_paid" and platform == "jd":
            abnormal = "phone_invalid"  # JD pushes paid orders only
        out.append((platform, abnormal))
    return out


def post_orders(
    svc: Services,
    console: Console,
    intake: Intake,
    count: int,
    rng: random.Random,
    spread_s: float,
) -> None:
    """Posts `count` signed orders, spread over `spread_s` seconds, one line each."""
    pause = spread_s / count if count else 0.0
    for n, (platform, abnormal) in enumerate(plan(count, rng), start=1):
        now = datetime.now(UTC)
        spec = order_spec(rng, platform, new_order_id(platform, rng, now), abnormal)
        body = json.dumps(BUILDERS[platform](spec, now), ensure_ascii=False).encode()
        params, headers = SIGNERS[platform](body, svc.webhook_secret)
        response = svc.http.post(
            f"{svc.review}/webhooks/{platform}/orders", params=params, headers=headers, content=body
        )
        place = spec.person.place
        where = f"{spec.person.name} {place.province}{place.district}"
        note = f"  [yellow]abnormal on purpose: {ABNORMAL_LABELS[abnormal]}[/]" if abnormal else ""
        if response.status_code in (200, 201):
            order_id = response.json()["order_id"]
            intake.posted[order_id] = Posted(order_id, spec)
            console.print(
                f"[bold green]order[/]    {n:>3}/{count} {platform:<9} "
                f"{spec.platform_order_id:<22} {where}{note}"
            )
        else:
            intake.refused[str(response.status_code)] += 1
            console.print(
                f"[bold red]order[/]    {n:>3}/{count} {platform:<9} refused "
                f"{response.status_code}: {response.text[:200]}"
            )
        time.sleep(pause)
    by_platform = Counter(p.spec.platform for p in intake.posted.values())
    abnormal_count = sum(1 for p in intake.posted.values() if p.spec.abnormal)
    console.print(
        f"[bold green]orders[/]   {len(intake.posted)} accepted ("
        + ", ".join(f"{k} {v}" for k, v in sorted(by_platform.items()))
        + f"), {abnormal_count} abnormal on purpose, {sum(intake.refused.values())} refused"
    )
