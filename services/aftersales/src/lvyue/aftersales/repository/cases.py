"""SQL for after-sale cases: the cases, their history, refunds and webhook deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from lvyue.aftersales.domain import CaseState
from lvyue.aftersales.repository.records import (
    Case,
    HistoryEntry,
    Refund,
    case_record,
    refund_record,
)
from lvyue.aftersales.tables import case_history, cases, refunds, webhook_deliveries
from lvyue.common.paging import Paging, equal, fetch_page, filtered
from lvyue.common.webhooks.deliveries import Delivery, made_by
from lvyue.common.webhooks.deliveries import record_delivery as record


async def insert_case(session: AsyncSession, values: dict[str, Any]) -> bool:
    """False when a case with the same idempotency key or platform case id exists."""
    result = await session.execute(
        insert(cases).values(**values).on_conflict_do_nothing().returning(cases.c.id)
    )
    return result.first() is not None


async def get_case(session: AsyncSession, case_id: uuid.UUID, *, lock: bool = False) -> Case | None:
    query = select(cases).where(cases.c.id == case_id)
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    return case_record(row) if row is not None else None


async def case_by_idempotency_key(session: AsyncSession, key: str) -> Case | None:
    row = (await session.execute(select(cases).where(cases.c.idempotency_key == key))).first()
    return case_record(row) if row is not None else None


async def case_by_platform_id(
    session: AsyncSession, *, platform: str, shop_id: str, platform_aftersale_id: str
) -> Case | None:
    row = (
        await session.execute(
            select(cases).where(
                cases.c.platform == platform,
                cases.c.shop_id == shop_id,
                cases.c.platform_aftersale_id == platform_aftersale_id,
            )
        )
    ).first()
    return case_record(row) if row is not None else None


async def list_cases(
    session: AsyncSession,
    *,
    state: CaseState | None,
    order_id: uuid.UUID | None,
    paging: Paging,
) -> tuple[list[Case], int]:
    query = filtered(select(cases), equal(cases.c.state, state), equal(cases.c.order_id, order_id))
    rows, total = await fetch_page(session, query, paging, cases.c.requested_at, cases.c.id)
    return [case_record(r) for r in rows], total


async def update_case(session: AsyncSession, case_id: uuid.UUID, **values: Any) -> None:
    await session.execute(update(cases).where(cases.c.id == case_id).values(**values))


async def add_history(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    state: CaseState,
    at: datetime,
    actor: str,
    note: str,
) -> None:
    await session.execute(
        case_history.insert().values(case_id=case_id, state=state, at=at, actor=actor, note=note)
    )


async def history(session: AsyncSession, case_id: uuid.UUID) -> list[HistoryEntry]:
    rows = await session.execute(
        select(case_history).where(case_history.c.case_id == case_id).order_by(case_history.c.id)
    )
    return [HistoryEntry(r.state, r.at, r.actor, r.note) for r in rows]


async def case_for_delivery(
    session: AsyncSession, *, platform: str, delivery_id: str
) -> uuid.UUID | None:
    return await made_by(session, webhook_deliveries, platform=platform, delivery_id=delivery_id)


async def record_delivery(
    session: AsyncSession, delivery: Delivery, *, case_id: uuid.UUID, received_at: datetime
) -> None:
    await record(session, webhook_deliveries, delivery, made=case_id, received_at=received_at)


async def insert_refund(session: AsyncSession, refund: Refund) -> bool:
    """False when the reference was already used (by this case or another one)."""
    result = await session.execute(
        insert(refunds).values(**vars(refund)).on_conflict_do_nothing().returning(refunds.c.case_id)
    )
    return result.first() is not None


async def refund_of_case(session: AsyncSession, case_id: uuid.UUID) -> Refund | None:
    row = (await session.execute(select(refunds).where(refunds.c.case_id == case_id))).first()
    return refund_record(row) if row is not None else None


async def refund_by_reference(session: AsyncSession, reference: str) -> Refund | None:
    row = (await session.execute(select(refunds).where(refunds.c.reference == reference))).first()
    return refund_record(row) if row is not None else None
