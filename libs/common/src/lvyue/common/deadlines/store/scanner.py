"""The scanner's statements: breaching what is overdue, counting what is open, and the
recent outcomes behind the compliance gauges."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from lvyue.common.deadlines.store.records import Deadline, DeadlineState, OpenCounts, Outcomes
from lvyue.common.tables import deadlines


async def breach_overdue(session: AsyncSession, *, now: datetime, limit: int) -> list[Deadline]:
    """Flips at most `limit` open deadlines due by `now` to breached, skipping rows another
    scanner holds (FOR UPDATE SKIP LOCKED); those this call flipped."""
    due_ids = (
        select(deadlines.c.id)
        .where(deadlines.c.state == "open", deadlines.c.due_at <= now)
        .order_by(deadlines.c.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    rows = await session.execute(
        update(deadlines)
        .where(deadlines.c.id.in_(due_ids), deadlines.c.state == "open")
        .values(state=DeadlineState.BREACHED, breached_at=now)
        .returning(deadlines)
    )
    return [Deadline.from_row(r) for r in rows]


async def open_counts(
    session: AsyncSession, *, now: datetime, at_risk_fraction: float
) -> dict[str, OpenCounts]:
    """Per SLA with at least one open deadline."""
    elapsed = func.extract("epoch", now - deadlines.c.opened_at)
    allowed = func.extract("epoch", deadlines.c.due_at - deadlines.c.opened_at)
    at_risk = (deadlines.c.due_at > now) & (elapsed >= allowed * at_risk_fraction)
    rows = await session.execute(
        select(
            deadlines.c.sla,
            func.count(),
            func.count(case((at_risk, 1))),
            func.count(case((deadlines.c.due_at <= now, 1))),
        )
        .where(deadlines.c.state == "open")
        .group_by(deadlines.c.sla)
    )
    return {sla: OpenCounts(int(n), int(r), int(o)) for sla, n, r, o in rows}


async def outcomes_since(session: AsyncSession, *, since: datetime) -> dict[str, Outcomes]:
    """Per SLA: deadlines met (closed in time) since `since`, and those breached since then
    (at their breach, whether closed late or still open). Read from the table, so the figure
    survives a restart, which a process's counters do not."""
    rows = await session.execute(
        text(
            """
            SELECT sla,
                   count(*) FILTER (WHERE state = 'met') AS met,
                   count(*) FILTER (WHERE state = 'breached' AND breached_at >= :since)
                       AS breached
            FROM deadlines
            -- breached_at <= closed_at: both partial indexes on closed_at serve this
            WHERE (closed_at >= :since OR closed_at IS NULL) AND state IN ('met', 'breached')
            GROUP BY sla
            """
        ),
        {"since": since},
    )
    return {r.sla: Outcomes(int(r.met), int(r.breached)) for r in rows}
