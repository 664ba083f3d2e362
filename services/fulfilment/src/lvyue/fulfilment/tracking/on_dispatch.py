"""The dispatch hook: queue the tracking sync and start its deadline in the dispatch transaction."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping

import structlog

from lvyue.common.deadlines.sla import SlaPolicies
from lvyue.common.deadlines.store import open_deadline
from lvyue.common.uow import UnitOfWork
from lvyue.fulfilment.settings import PlatformApi
from lvyue.fulfilment.tracking import metrics
from lvyue.fulfilment.tracking import repository as repo
from lvyue.fulfilment.tracking.platforms import api_for
from lvyue.fulfilment.tracking.records import (
    NO_API,
    TRACKING_SLA,
    DispatchedShipment,
    metric_label,
    push_of,
)

log = structlog.get_logger(__name__)

TrackingHook = Callable[[UnitOfWork, DispatchedShipment], Awaitable[None]]


def tracking_sync_hook(sla: SlaPolicies, apis: Mapping[str, PlatformApi]) -> TrackingHook:
    async def enqueue_tracking_sync(uow: UnitOfWork, shipment: DispatchedShipment) -> None:
        """A pending sync job due now, and the tracking_sync deadline (subject: the order). A
        platform with no API configured gets a job recorded as skipped and no deadline: a
        promise nothing can keep is not tracked (the skipped count has its own alert)."""
        if shipment.aftersale_id is not None:
            # The platforms' shipping APIs take an order's first parcel only; an exchange's
            # replacement is reported through their after-sale (换货) APIs, not integrated.
            log.info(
                "tracking_sync_not_for_replacements",
                shipment_id=str(shipment.id),
                aftersale_id=str(shipment.aftersale_id),
            )
            return
        now = uow.clock.now()
        if api_for(apis, shipment.platform, shipment.shop_id) is None:
            if await repo.insert_job(uow.session, push_of(shipment), now=now, skipped=NO_API):
                uow.after_commit(functools.partial(_count_skipped, shipment.platform, apis))
            return
        if await repo.insert_job(uow.session, push_of(shipment), now=now):
            await open_deadline(
                uow,
                sla=TRACKING_SLA,
                subject=str(shipment.order_id),
                opened_at=now,
                due_at=sla.due_at(TRACKING_SLA, now),
            )

    return enqueue_tracking_sync


def _count_skipped(platform: str, apis: Mapping[str, PlatformApi]) -> None:
    metrics.SKIPPED.labels(metric_label(platform, apis)).inc()
    log.warning("tracking_sync_skipped", platform=platform, reason=NO_API)
