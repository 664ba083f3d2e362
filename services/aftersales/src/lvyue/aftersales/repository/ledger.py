"""SQL for the weekly ledger: the facts of one period, and the weeks already published."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from lvyue.aftersales.ledger.figures import CaseFact, RefundFact
from lvyue.aftersales.repository.records import parse_case_lines
from lvyue.aftersales.tables import cases, ledger_publications, refunds


async def cases_opened(session: AsyncSession, start: datetime, end: datetime) -> list[CaseFact]:
    """Cases requested in [start, end), whatever became of them."""
    rows = await session.execute(
        select(cases.c.reason, cases.c.platform, cases.c.lines).where(
            cases.c.requested_at >= start, cases.c.requested_at < end
        )
    )
    return [CaseFact(r.reason, r.platform, parse_case_lines(r.lines)) for r in rows]


async def refunds_paid(session: AsyncSession, start: datetime, end: datetime) -> list[RefundFact]:
    """Refunds paid in [start, end), with their case's reason, platform and lines."""
    rows = await session.execute(
        select(cases.c.reason, cases.c.platform, cases.c.lines, refunds.c.amount)
        .join(cases, cases.c.id == refunds.c.case_id)
        .where(refunds.c.refunded_at >= start, refunds.c.refunded_at < end)
    )
    return [RefundFact(r.reason, r.platform, parse_case_lines(r.lines), r.amount) for r in rows]


async def claim_week(session: AsyncSession, week: str, at: datetime) -> bool:
    """Claims the week's publication; False when it was published (or claimed) before."""
    result = await session.execute(
        insert(ledger_publications)
        .values(week=week, published_at=at)
        .on_conflict_do_nothing()
        .returning(ledger_publications.c.week)
    )
    return result.first() is not None
