"""All SQL of tracking sync: it receives a session and returns SyncJob records."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from lvyue.common.paging import Paging, equal, fetch_page, filtered
from lvyue.common.sql import any_of
from lvyue.fulfilment.tracking.platforms import TrackingPush
from lvyue.fulfilment.tracking.records import SyncJob, SyncState
from lvyue.fulfilment.tracking.tables import tracking_syncs as t


async def insert_job(
    session: AsyncSession, push: TrackingPush, *, now: datetime, skipped: str | None = None
) -> bool:
    """A pending job, due now (or, with `skipped` as the reason, one recorded as skipped);
    False if the shipment has one already (a repeated dispatch)."""
    result = await session.execute(
        insert(t)
        .values(
            shipment_id=push.shipment_id,
            order_id=push.order_id,
            platform=push.platform,
            shop_id=push.shop_id,
            platform_order_id=push.platform_order_id,
            carrier_code=push.carrier_code,
            tracking_number=push.tracking_number,
            dispatched_at=push.dispatched_at,
            state=SyncState.PENDING if skipped is None else SyncState.SKIPPED,
            last_error=skipped,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=[t.c.shipment_id])
        .returning(t.c.shipment_id)
    )
    return result.first() is not None


async def lock_due(session: AsyncSession, *, now: datetime, limit: int) -> list[SyncJob]:
    """Due, unleased pending jobs, locked; rows another worker holds are skipped, not awaited."""
    rows = await session.execute(
        select(t)
        .where(
            t.c.state == SyncState.PENDING,
            t.c.next_attempt_at <= now,
            or_(t.c.leased_until.is_(None), t.c.leased_until <= now),
        )
        .order_by(t.c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [SyncJob.from_row(r) for r in rows]


async def lease(
    session: AsyncSession,
    ids: Sequence[uuid.UUID],
    *,
    now: datetime,
    until: datetime,
    token: uuid.UUID,
) -> list[SyncJob]:
    """Starts an attempt on each job: counted now, so a crash mid-call still counts it."""
    if not ids:
        return []
    rows = await session.execute(
        update(t)
        .where(any_of(t.c.shipment_id, ids))
        .values(
            attempts=t.c.attempts + 1,
            leased_until=until,
            lease_token=token,
            window_started_at=func.coalesce(t.c.window_started_at, now),
            last_attempt_at=now,
            updated_at=now,
        )
        .returning(t)
    )
    return [SyncJob.from_row(r) for r in rows]


async def mark_skipped(
    session: AsyncSession, ids: Sequence[uuid.UUID], *, now: datetime, reason: str
) -> None:
    if ids:
        await session.execute(
            update(t)
            .where(any_of(t.c.shipment_id, ids))
            .values(state=SyncState.SKIPPED, last_error=reason, updated_at=now)
        )


async def lock_leased(
    session: AsyncSession, shipment_id: uuid.UUID, token: uuid.UUID
) -> SyncJob | None:
    """The job, if this lease still holds it (not re-driven, not taken over after expiry)."""
    row = (
        await session.execute(
            select(t)
            .where(
                t.c.shipment_id == shipment_id,
                t.c.lease_token == token,
                t.c.state == SyncState.PENDING,
            )
            .with_for_update()
        )
    ).first()
    return None if row is None else SyncJob.from_row(row)


async def get_job(
    session: AsyncSession, shipment_id: uuid.UUID, *, for_update: bool = False
) -> SyncJob | None:
    query = select(t).where(t.c.shipment_id == shipment_id)
    row = (await session.execute(query.with_for_update() if for_update else query)).first()
    return None if row is None else SyncJob.from_row(row)


async def update_job(session: AsyncSession, shipment_id: uuid.UUID, **values: Any) -> SyncJob:
    row = (
        await session.execute(
            update(t).where(t.c.shipment_id == shipment_id).values(**values).returning(t)
        )
    ).one()
    return SyncJob.from_row(row)


async def list_jobs(
    session: AsyncSession,
    *,
    state: SyncState | None,
    platform: str | None,
    paging: Paging,
) -> tuple[list[SyncJob], int]:
    query = filtered(select(t), equal(t.c.state, state), equal(t.c.platform, platform))
    rows, total = await fetch_page(session, query, paging, t.c.updated_at.desc(), t.c.shipment_id)
    return [SyncJob.from_row(r) for r in rows], total


async def count_by_state(session: AsyncSession) -> dict[SyncState, int]:
    rows = await session.execute(select(t.c.state, func.count()).group_by(t.c.state))
    counts = dict.fromkeys(SyncState, 0)
    for state, count in rows:
        counts[SyncState(state)] = int(count)
    return counts
