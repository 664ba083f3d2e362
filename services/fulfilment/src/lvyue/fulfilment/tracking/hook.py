"""The dispatch hook: queue the tracking sync and start its deadline in the dispatch transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from lvyue.common.deadlines.sla import SlaPolicies
from lvyue.common.deadlines.store import open_deadline
from lvyue.common.uow import UnitOfWork
from lvyue.fulfilment.tracking import repository as repo
from lvyue.fulfilment.tracking.records import TRACKING_SLA, DispatchedShipment, push_of

TrackingHook = Callable[[UnitOfWork, DispatchedShipment], Awaitable[None]]


def tracking_sync_hook(sla: SlaPolicies) -> TrackingHook:
    async def enqueue_tracking_sync(uow: UnitOfWork, shipment: DispatchedShipment) -> None:
        """A pending sync job due now, and the tracking_sync deadline (subject: the order)."""
        now = uow.clock.now()
        if await repo.insert_job(uow.session, push_of(shipment), now=now):
            await open_deadline(
                uow,
                sla=TRACKING_SLA,
                subject=str(shipment.order_id),
                opened_at=now,
                due_at=sla.due_at(TRACKING_SLA, now),
            )

    return enqueue_tracking_sync
