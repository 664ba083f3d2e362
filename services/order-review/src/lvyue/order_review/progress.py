"""Stuck orders: accepted orders with no state change for too long (review should take seconds)."""

from __future__ import annotations

from datetime import timedelta

import structlog
from prometheus_client import Gauge
from sqlalchemy import func, select

from lvyue.common.bootstrap import BackgroundJob, Kernel
from lvyue.common.jobs import every
from lvyue.order_review.status import OrderStatus
from lvyue.order_review.tables import orders

log = structlog.get_logger(__name__)

STALLED = Gauge(
    "lvyue_orders_stalled",
    "Orders in a waiting state with no change for longer than LVYUE_STALLED_AFTER_S",
    ["status"],
)
# Only states the system itself must move on; abnormal orders wait for people and have
# their own 2 h deadline, reviewed ones wait for the warehouse and its dispatch deadlines.
WAITING_STATES = (OrderStatus.PENDING_REVIEW,)


def stalled_orders_job(stalled_after_s: float, interval_s: float) -> BackgroundJob:
    async def count_stalled_orders(kernel: Kernel) -> None:
        async with kernel.uow() as uow:
            cutoff = uow.clock.now() - timedelta(seconds=stalled_after_s)
            rows = await uow.session.execute(
                select(orders.c.status, func.count())
                .where(orders.c.status.in_(WAITING_STATES), orders.c.updated_at < cutoff)
                .group_by(orders.c.status)
            )
            counts: dict[str, int] = dict(rows.all())
        for status in WAITING_STATES:
            STALLED.labels(status).set(counts.get(status, 0))

    return every(interval_s, count_stalled_orders)
