"""The scanner's statements: breaching what is overdue, counting what is open, and the
recent outcomes behind the compliance gauges."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from lvyue.common.deadlines.store.records import Deadline, DeadlineState, OpenCounts, Outcomes
from lvyue.common.tables import TZ, deadlines


async def breach_overdue(session: AsyncSession, *, now: datetime, limit: int) -> list[Deadline]:
    """Flips at most `limit` open deadlines due before `now` to breached, skipping rows another
    scanner holds (FOR UPDATE SKIP LOCKED); those this call flipped. Due before, not at: closing
    one exactly at its due time is on time (met), so the scanner must not breach it then."""
    due_ids = (
        select(deadlines.c.id)
        .where(deadlines.c.state == "open", deadlines.c.due_at < now)
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
    rows = await session.execute(_OPEN_COUNTS, {"now": now, "fraction": at_risk_fraction})
    return {r.sla: OpenCounts(int(r.open), int(r.at_risk), int(r.overdue)) for r in rows}


# Every open row is read, so the arithmetic per row is interval operations: the elapsed share
# as extract(epoch ...) twice per row cost twice the time at a million open deadlines.
_OPEN_COUNTS = text(
    """
    SELECT sla,
           count(*) AS open,
           count(*) FILTER (
               WHERE due_at >= :now AND :now - opened_at >= (due_at - opened_at) * :fraction
           ) AS at_risk,
           count(*) FILTER (WHERE due_at < :now) AS overdue
    FROM deadlines
    WHERE state = 'open'
    GROUP BY sla
    """
).bindparams(bindparam("now", type_=TZ), bindparam("fraction", type_=Float))


async def serial_reads(session: AsyncSession) -> None:
    """No parallel workers for the rest of this transaction: the gauges' counts run every few
    seconds in every replica, and workers would add CPU (about twice the work at a million
    open deadlines) and take the cores the breaching scan needs, to save wall time no one
    waits for."""
    await session.execute(_SERIAL)


_SERIAL = text("SET LOCAL max_parallel_workers_per_gather = 0")


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
