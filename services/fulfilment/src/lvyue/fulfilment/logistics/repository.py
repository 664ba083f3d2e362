"""All SQL of logistics exceptions: parcels, their scans, and the exceptions raised on them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, exists, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from lvyue.common.paging import Paging, equal, fetch_page, filtered
from lvyue.common.records import from_row
from lvyue.common.sql import any_of
from lvyue.fulfilment.logistics.records import LogisticsException, Parcel
from lvyue.fulfilment.logistics.rules import Cause, ExceptionKind, Resolution
from lvyue.fulfilment.logistics.tables import logistics_exceptions as ex
from lvyue.fulfilment.logistics.tables import parcels as p
from lvyue.fulfilment.logistics.tables import tracking_events as ev

ListState = Literal["open", "cleared", "all"]


async def insert_parcel(session: AsyncSession, parcel: Parcel, *, now: datetime) -> bool:
    result = await session.execute(
        insert(p)
        .values(
            shipment_id=parcel.shipment_id,
            order_id=parcel.order_id,
            warehouse_id=parcel.warehouse_id,
            carrier_code=parcel.carrier_code,
            tracking_number=parcel.tracking_number,
            dispatched_at=parcel.dispatched_at,
            quiet_since=parcel.quiet_since,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=[p.c.shipment_id])
        .returning(p.c.shipment_id)
    )
    return result.first() is not None


async def lock_parcel(session: AsyncSession, shipment_id: uuid.UUID) -> Parcel | None:
    row = (
        await session.execute(select(p).where(p.c.shipment_id == shipment_id).with_for_update())
    ).first()
    return None if row is None else Parcel.from_row(row)


async def update_parcel(session: AsyncSession, shipment_id: uuid.UUID, **values: Any) -> None:
    await session.execute(update(p).where(p.c.shipment_id == shipment_id).values(**values))


async def insert_event(
    session: AsyncSession,
    shipment_id: uuid.UUID,
    *,
    at: datetime,
    status: str,
    location: str,
    description: str,
    now: datetime,
) -> bool:
    """Records a scan; False for a repeat of the same (shipment, time, status)."""
    result = await session.execute(
        insert(ev)
        .values(
            shipment_id=shipment_id,
            at=at,
            status=status,
            location=location,
            description=description,
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=[ev.c.shipment_id, ev.c.at, ev.c.status])
        .returning(ev.c.id)
    )
    return result.first() is not None


def _open(kind: ExceptionKind | None = None) -> Any:
    condition = and_(ex.c.shipment_id == p.c.shipment_id, ex.c.cleared_at.is_(None))
    return exists().where(condition if kind is None else and_(condition, ex.c.kind == kind))


async def lock_quiet(
    session: AsyncSession, *, kind: ExceptionKind, quiet_before: datetime, limit: int
) -> list[Parcel]:
    """Undelivered parcels quiet since `quiet_before` and not yet flagged `kind`, locked.

    A lost parcel is not flagged delayed as well. Rows another scanner holds are skipped.
    """
    not_flagged = ~_open(kind) if kind is ExceptionKind.LOST else ~_open()
    rows = await session.execute(
        select(p)
        .where(p.c.delivered_at.is_(None), p.c.quiet_since <= quiet_before, not_flagged)
        .order_by(p.c.quiet_since)
        .limit(limit)
        .with_for_update(of=p, skip_locked=True)
    )
    return [Parcel.from_row(r) for r in rows]


async def open_exception(
    session: AsyncSession, parcel: Parcel, *, kind: ExceptionKind, cause: Cause, now: datetime
) -> bool:
    """Flags the parcel; False when it has an open exception of this kind already."""
    result = await session.execute(
        insert(ex)
        .values(
            id=uuid.uuid4(),
            shipment_id=parcel.shipment_id,
            kind=kind,
            cause=cause,
            last_scan_at=parcel.last_scan_at,
            detected_at=now,
        )
        .on_conflict_do_nothing(
            index_elements=[ex.c.shipment_id, ex.c.kind], index_where=text("cleared_at IS NULL")
        )
        .returning(ex.c.id)
    )
    return result.first() is not None


async def clear_exceptions(
    session: AsyncSession,
    shipment_id: uuid.UUID,
    kinds: Iterable[ExceptionKind],
    *,
    resolution: Resolution,
    now: datetime,
) -> list[ExceptionKind]:
    rows = await session.execute(
        update(ex)
        .where(ex.c.shipment_id == shipment_id, ex.c.cleared_at.is_(None), any_of(ex.c.kind, kinds))
        .values(cleared_at=now, resolution=resolution)
        .returning(ex.c.kind)
    )
    return [ExceptionKind(kind) for (kind,) in rows]


async def list_exceptions(
    session: AsyncSession,
    *,
    kind: ExceptionKind | None,
    state: ListState,
    paging: Paging,
) -> tuple[list[LogisticsException], int]:
    cleared = {"open": ex.c.cleared_at.is_(None), "cleared": ex.c.cleared_at.is_not(None)}
    query = filtered(
        select(ex, *[c.label(f"p_{c.name}") for c in p.c]).join(
            p, p.c.shipment_id == ex.c.shipment_id
        ),
        equal(ex.c.kind, kind),
        cleared.get(state),
    )
    rows, total = await fetch_page(session, query, paging, ex.c.detected_at.desc(), ex.c.id)
    return [_exception(r) for r in rows], total


def _exception(row: Any) -> LogisticsException:
    return from_row(
        LogisticsException,
        row,
        parcel=from_row(Parcel, row, prefix="p_"),  # the parcel's columns, labelled p_*
        kind=ExceptionKind(row.kind),
        cause=Cause(row.cause),
        resolution=Resolution(row.resolution) if row.resolution else None,
    )


async def count_open(session: AsyncSession) -> dict[ExceptionKind, int]:
    rows = await session.execute(
        select(ex.c.kind, func.count()).where(ex.c.cleared_at.is_(None)).group_by(ex.c.kind)
    )
    counts = dict.fromkeys(ExceptionKind, 0)
    for kind, count in rows:
        counts[ExceptionKind(kind)] = int(count)
    return counts
