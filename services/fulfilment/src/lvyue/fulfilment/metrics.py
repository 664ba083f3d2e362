"""Fulfilment's KPI metrics (no order ids as labels) and the job that recounts pending work."""

from __future__ import annotations

import structlog
from prometheus_client import Counter, Gauge

from lvyue.common.bootstrap import BackgroundJob, Kernel
from lvyue.common.jobs import every
from lvyue.fulfilment import repository

log = structlog.get_logger(__name__)

SHIPMENTS_REQUESTED = Counter(
    "lvyue_fulfilment_shipments_requested_total",
    "Shipments requested from warehouses",
    ["warehouse", "priority"],
)
DISPATCHES = Counter(
    "lvyue_fulfilment_dispatches_total",
    "Dispatched shipments; on_time: both outbound_24h and dispatch_1600 were met",
    ["warehouse", "platform", "on_time"],
)
LATE_CANCELLATIONS = Counter(
    "lvyue_fulfilment_late_cancellations_total",
    "order.cancelled for an order already dispatched (left to aftersales)",
    ["warehouse"],
)
PENDING_SHIPMENTS = Gauge(
    "lvyue_fulfilment_pending_shipments",
    "Shipments requested and not dispatched yet (read from the database)",
    ["warehouse"],
)


class PendingGauge:
    """Sets the gauge from the database, so every replica reports the same numbers."""

    def __init__(self) -> None:
        self._known: set[str] = set()

    async def refresh(self, kernel: Kernel) -> dict[str, int]:
        async with kernel.uow() as uow:
            counts = await repository.count_pending_by_warehouse(uow.session)
        for warehouse in self._known - counts.keys():
            PENDING_SHIPMENTS.labels(warehouse).set(0)
        for warehouse, count in counts.items():
            PENDING_SHIPMENTS.labels(warehouse).set(count)
        self._known |= counts.keys()
        return counts


def pending_gauge_job(interval_s: float) -> BackgroundJob:
    return every(interval_s, PendingGauge().refresh, name="refresh_pending_shipments")
