"""Inventory's Prometheus metrics, and the job that keeps the low-stock gauge current."""

from __future__ import annotations

import structlog
from prometheus_client import Counter, Gauge

from lvyue.common.bootstrap import BackgroundJob, Kernel
from lvyue.common.jobs import every
from lvyue.inventory import repository

log = structlog.get_logger(__name__)

LOW_STOCK_EVENTS = Counter(
    "lvyue_inventory_low_stock_events_total",
    "SKUs that fell below their safety threshold (one per crossing)",
    ["warehouse"],
)
RESERVATIONS = Counter(
    "lvyue_inventory_reservations_total", "Orders decided by inventory", ["outcome"]
)
REPLACEMENT_RESERVATIONS = Counter(
    "lvyue_inventory_replacement_reservations_total",
    "Exchange replacements held by inventory (short: nothing held, the parcel ships anyway)",
    ["outcome"],
)
SLOW_MOVING_FLAGGED = Counter(
    "lvyue_inventory_slow_moving_flagged_total", "SKUs flagged as slow-moving", ["warehouse"]
)
LOW_STOCK_SKUS = Gauge(
    "lvyue_inventory_low_stock_skus", "SKUs currently below their safety threshold"
)


async def refresh_low_stock_gauge(kernel: Kernel) -> int:
    async with kernel.uow() as uow:
        count = await repository.count_low_stock(uow.session)
    LOW_STOCK_SKUS.set(count)
    return count


def low_stock_gauge_job(interval_s: float) -> BackgroundJob:
    """Counts latched SKUs in the database, so every replica reports the same number."""
    return every(interval_s, refresh_low_stock_gauge, name="refresh_low_stock_skus")
