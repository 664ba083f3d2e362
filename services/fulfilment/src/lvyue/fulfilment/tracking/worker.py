"""The tracking-sync worker: claim due jobs, call the platform with no transaction open, record.

Safe with replicas and restarts: jobs are claimed with FOR UPDATE SKIP LOCKED and leased for a
bounded time (lease token + leased_until) in a short transaction that commits before any HTTP
call. The result is written only while the lease still holds, so a worker that lost its lease
(crashed, or an operator re-drove the job) changes nothing. Retry state lives in the row
(attempts, next_attempt_at, window_started_at), so a new process carries on where one stopped.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable, Mapping
from datetime import timedelta

import httpx
import structlog

from lvyue.common.deadlines.store import close_deadline
from lvyue.common.uow import UnitOfWork, UnitOfWorkFactory
from lvyue.fulfilment.settings import PlatformApi
from lvyue.fulfilment.tracking import metrics
from lvyue.fulfilment.tracking import repository as repo
from lvyue.fulfilment.tracking.platforms import Adapters, Outcome, OutcomeKind, api_for
from lvyue.fulfilment.tracking.policy import RetryPolicy
from lvyue.fulfilment.tracking.records import (
    NO_API,
    TRACKING_SLA,
    SyncJob,
    SyncState,
    metric_label,
)

log = structlog.get_logger(__name__)


class TrackingSyncWorker:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        client: httpx.AsyncClient,
        *,
        apis: Mapping[str, PlatformApi],
        policy: RetryPolicy,
        adapters: Adapters | None = None,
        batch_size: int = 20,
        lease_s: float = 60.0,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._uow = uow_factory
        self._client = client
        self._apis = apis
        self._policy = policy
        self._adapters = adapters or Adapters()
        self._batch_size = batch_size
        self._lease = timedelta(seconds=lease_s)
        self._jitter = jitter

    def _label(self, platform: str) -> str:
        return metric_label(platform, self._apis)

    async def run_once(self) -> int:
        """One batch: claims, calls and records; returns how many jobs it handled."""
        token = uuid.uuid4()
        async with self._uow() as uow:
            now = uow.clock.now()
            due = await repo.lock_due(uow.session, now=now, limit=self._batch_size)
            unconfigured = [j for j in due if self._api(j) is None]
            await repo.mark_skipped(
                uow.session, [j.shipment_id for j in unconfigured], now=now, reason=NO_API
            )
            configured = [j.shipment_id for j in due if self._api(j) is not None]
            leased = await repo.lease(
                uow.session, configured, now=now, until=now + self._lease, token=token
            )
            await uow.commit()
        for job in unconfigured:
            metrics.SKIPPED.labels(self._label(job.platform)).inc()
            log.warning(
                "tracking_sync_skipped", platform=job.platform, shipment_id=str(job.shipment_id)
            )
        await asyncio.gather(*(self._attempt(job, token) for job in leased))
        return len(due)

    def _api(self, job: SyncJob) -> PlatformApi | None:
        return api_for(self._apis, job.platform, job.push.shop_id)

    async def _attempt(self, job: SyncJob, token: uuid.UUID) -> None:
        api = self._api(job)
        adapter = self._adapters.for_platform(job.platform)
        if api is None:  # configuration cannot change under a running worker
            outcome = Outcome.permanent(NO_API)
        else:
            try:
                at = job.last_attempt_at or job.updated_at  # the claim time, from the clock
                outcome = await adapter.push(self._client, job.push, api, now=at)
            except Exception as exc:  # an adapter bug must not strand the job until lease expiry
                log.exception("tracking_sync_adapter_crashed", platform=job.platform)
                outcome = Outcome.retry(f"adapter error: {type(exc).__name__}: {exc}")
        metrics.ATTEMPTS.labels(self._label(job.platform), outcome.kind.value).inc()
        try:
            await self._record(job, token, outcome)
        except Exception as exc:  # the lease runs out and the job is tried again
            log.error(
                "tracking_sync_record_failed", shipment_id=str(job.shipment_id), error=repr(exc)
            )

    async def _record(self, job: SyncJob, token: uuid.UUID, outcome: Outcome) -> None:
        async with self._uow() as uow:
            current = await repo.lock_leased(uow.session, job.shipment_id, token)
            if current is None:
                log.warning("tracking_sync_lease_lost", shipment_id=str(job.shipment_id))
                return
            state = await self._apply(uow, current, outcome)
            await uow.commit()
        log.info(
            "tracking_sync_attempt",
            platform=job.platform,
            shipment_id=str(job.shipment_id),
            attempt=current.attempts,
            outcome=outcome.kind.value,
            state=state.value,
            status_code=outcome.status_code,
            error=outcome.error,
        )

    async def _apply(self, uow: UnitOfWork, job: SyncJob, outcome: Outcome) -> SyncState:
        now = uow.clock.now()
        done = {"leased_until": None, "lease_token": None, "updated_at": now}
        result = {"last_status_code": outcome.status_code, "last_error": outcome.error}
        if outcome.kind is OutcomeKind.SYNCED:
            await repo.update_job(
                uow.session, job.shipment_id, state=SyncState.SYNCED, synced_at=now,
                **result, **done,
            )  # fmt: skip
            await close_deadline(
                uow, sla=TRACKING_SLA, subject=str(job.push.order_id), closed_at=now
            )
            return SyncState.SYNCED
        permanent = outcome.kind is OutcomeKind.PERMANENT
        if permanent or self._policy.gives_up(job.window_started_at, now):
            await repo.update_job(
                uow.session, job.shipment_id, state=SyncState.FAILED, failed_at=now,
                **result, **done,
            )  # fmt: skip
            reason = "permanent" if permanent else "window"
            uow.after_commit(metrics.GIVEN_UP.labels(self._label(job.platform), reason).inc)
            return SyncState.FAILED
        delay = self._policy.delay_s(job.attempts, self._jitter(), outcome.retry_after_s)
        await repo.update_job(
            uow.session, job.shipment_id, next_attempt_at=now + timedelta(seconds=delay),
            **result, **done,
        )  # fmt: skip
        return SyncState.PENDING

    async def refresh_gauge(self) -> None:
        async with self._uow() as uow:
            counts = await repo.count_by_state(uow.session)
        metrics.set_jobs(counts)
