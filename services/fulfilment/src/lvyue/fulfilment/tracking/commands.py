"""Operator commands on tracking syncs: re-driving a failed or skipped sync."""

from __future__ import annotations

import uuid

from lvyue.common.uow import UnitOfWork
from lvyue.fulfilment.tracking import repository as repo
from lvyue.fulfilment.tracking.records import SyncJob, SyncState


class UnknownSync(Exception):
    """No tracking sync exists for the shipment (not dispatched, or not through this service)."""


class AlreadySynced(Exception):
    """The platform has the tracking number already: there is nothing to re-drive."""


async def redrive(uow: UnitOfWork, shipment_id: uuid.UUID) -> tuple[SyncJob, bool]:
    """Makes a failed or skipped sync pending again, due now, with a fresh give-up window.

    Attempts are kept. A pending sync is left as it is (returns False): retrying twice is safe.
    """
    async with uow:
        job = await repo.get_job(uow.session, shipment_id, for_update=True)
        if job is None:
            raise UnknownSync(shipment_id)
        if job.state is SyncState.SYNCED:
            raise AlreadySynced(shipment_id)
        if job.state is SyncState.PENDING:
            return job, False
        now = uow.clock.now()
        job = await repo.update_job(
            uow.session,
            shipment_id,
            state=SyncState.PENDING,
            next_attempt_at=now,
            window_started_at=None,
            failed_at=None,
            leased_until=None,
            lease_token=None,
            updated_at=now,
        )
        await uow.commit()
    return job, True
