"""Inventory's periodic jobs, run by the kernel (lvyue.common.jobs.every): rule slow_moving_7d
(a SKU in stock with no sale for N days is flagged, once per streak) and the low-stock gauge."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from lvyue.common.bootstrap import BackgroundJob, Kernel
from lvyue.common.events.catalog import INVENTORY_SLOW_MOVING, SlowMoving
from lvyue.common.jobs import every
from lvyue.common.uow import UnitOfWork
from lvyue.inventory import repository
from lvyue.inventory.domain import days_without_sale
from lvyue.inventory.metrics import LOW_STOCK_SKUS, SLOW_MOVING_FLAGGED
from lvyue.inventory.settings import InventorySettings

log = structlog.get_logger(__name__)


async def flag_slow_moving(
    uow: UnitOfWork, now: datetime, days: int, *, batch_size: int = 500
) -> list[SlowMoving]:
    """Flags SKUs unsold (or, never sold, created) `days` ago and emits inventory.slow_moving.

    A sale (order.shipped) clears the flag and starts a new streak. Safe with replicas: rows
    are claimed with row locks, and rows busy in a reservation are left for the next pass.
    """
    flagged = await repository.flag_slow_moving(
        uow.session, cutoff=now - timedelta(days=days), now=now, batch_size=batch_size
    )
    events: list[SlowMoving] = []
    for row in flagged:
        event = SlowMoving(
            sku=row.sku,
            warehouse_id=row.warehouse_id,
            last_sale_at=row.last_sale_at,
            days_without_sale=days_without_sale(since=row.last_sale_at or row.created_at, now=now),
        )
        await uow.emit(INVENTORY_SLOW_MOVING, event, subject=row.sku)
        uow.after_commit(SLOW_MOVING_FLAGGED.labels(row.warehouse_id).inc)
        events.append(event)
    return events


def slow_moving_job(*, days: int, interval_s: float, batch_size: int) -> BackgroundJob:
    async def scan_slow_moving(kernel: Kernel) -> bool:
        async with kernel.uow() as uow:
            flagged = await flag_slow_moving(uow, uow.clock.now(), days, batch_size=batch_size)
            await uow.commit()
        if flagged:
            log.info("slow_moving_flagged", skus=[e.sku for e in flagged])
        return len(flagged) >= batch_size  # a full batch: more may be due at once

    return every(interval_s, scan_slow_moving, drain=True)


async def refresh_low_stock_gauge(kernel: Kernel) -> int:
    async with kernel.uow() as uow:
        count = await repository.count_low_stock(uow.session)
    LOW_STOCK_SKUS.set(count)
    return count


def low_stock_gauge_job(interval_s: float) -> BackgroundJob:
    """Counts latched SKUs in the database, so every replica reports the same number."""
    return every(interval_s, refresh_low_stock_gauge, name="refresh_low_stock_skus")


def jobs(settings: InventorySettings) -> list[BackgroundJob]:
    return [
        slow_moving_job(
            days=settings.slow_moving_days,
            interval_s=settings.slow_moving_check_interval_s,
            batch_size=settings.slow_moving_batch_size,
        ),
        low_stock_gauge_job(settings.metrics_refresh_interval_s),
    ]
