"""Reading deadlines: one subject's, the latest per subject of an SLA (for services' own
queries), the forecast's pending and completed ones, and the SLA board's hourly outcomes."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, func, literal, select, text
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Subquery

from lvyue.common.deadlines.store.records import (
    Deadline,
    DeadlineState,
    Outcomes,
    Pending,
    PredictedBreaches,
)
from lvyue.common.tables import deadlines


async def find_unclosed(session: AsyncSession, *, sla: str, subject: str) -> Deadline | None:
    """The deadline of (sla, subject) not closed yet, open or breached; there is at most one."""
    row = (
        await session.execute(
            select(deadlines).where(
                deadlines.c.sla == sla,
                deadlines.c.subject == subject,
                deadlines.c.closed_at.is_(None),
            )
        )
    ).first()
    return Deadline.from_row(row) if row else None


async def for_subject(session: AsyncSession, subject: str) -> list[Deadline]:
    rows = await session.execute(
        select(deadlines).where(deadlines.c.subject == subject).order_by(deadlines.c.opened_at)
    )
    return [Deadline.from_row(r) for r in rows]


async def pending(session: AsyncSession, *, limit: int) -> list[Pending]:
    """Unclosed deadlines, soonest due first within each (sla, queue), at most `limit`."""
    rows = await session.execute(
        text(
            """
            SELECT id, sla, subject, attributes->>'queue' AS queue, due_at,
                   state = 'breached' AS breached
            FROM deadlines
            WHERE closed_at IS NULL AND state IN ('open', 'breached')
            ORDER BY sla, queue NULLS FIRST, due_at, opened_at, subject
            LIMIT :limit
            """
        ),
        {"limit": limit},
    )
    return [Pending(r.id, r.sla, r.subject, r.queue, r.due_at, r.breached) for r in rows]


async def completions(
    session: AsyncSession, *, since: datetime, until: datetime
) -> dict[tuple[str, str | None], int]:
    """Deadlines closed by their work in [since, until], per (sla, queue)."""
    rows = await session.execute(
        text(
            """
            SELECT sla, attributes->>'queue' AS queue, count(*) AS closed
            FROM deadlines
            WHERE closed_at > :since AND closed_at <= :until AND state IN ('met', 'breached')
            GROUP BY 1, 2
            """
        ),
        {"since": since, "until": until},
    )
    return {(r.sla, r.queue): int(r.closed) for r in rows}


async def hourly_outcomes(
    session: AsyncSession, *, first: datetime, hours: int
) -> dict[tuple[str, datetime], Outcomes]:
    """Per (SLA, start of the hour) over `hours` hours from `first`: deadlines met (at their
    closing) and breached (at their breach, closed late or still open) in that hour, counted
    as outcomes_since counts them, so the hours of a window add up to its totals. Hours are
    binned from `first` itself (date_bin), not from the session's time zone."""
    met = deadlines.c.state == DeadlineState.MET
    decided_at = case((met, deadlines.c.closed_at), else_=deadlines.c.breached_at)
    hour = func.date_bin(literal(timedelta(hours=1)), decided_at, first)
    rows = await session.execute(
        select(
            deadlines.c.sla,
            hour.label("hour"),
            func.count().filter(met).label("met"),
            func.count().filter(deadlines.c.state == DeadlineState.BREACHED).label("breached"),
        )
        .where(
            deadlines.c.state.in_([DeadlineState.MET, DeadlineState.BREACHED]),
            # breached_at <= closed_at: both partial indexes on closed_at serve this
            (deadlines.c.closed_at >= first) | deadlines.c.closed_at.is_(None),
            decided_at >= first,
            decided_at < first + timedelta(hours=hours),
        )
        .group_by(deadlines.c.sla, hour)
    )
    return {(r.sla, r.hour): Outcomes(int(r.met), int(r.breached)) for r in rows}


async def predicted_breaches(
    session: AsyncSession, *, now: datetime, window: timedelta
) -> dict[str, PredictedBreaches]:
    """The breach forecast's count per SLA, computed where the rows are: each unclosed
    deadline's place in its (sla, queue) line, soonest due first, and the queue's completions
    over `window` give `now + place × window / completions`, as `forecast.forecast` computes
    per deadline (the same order and rule: tests hold the two to each other). Every unclosed
    deadline counts, where the per-deadline forecast reads at most its `limit`; one statement,
    whatever the backlog, for the gauges and the SLA board."""
    rows = await session.execute(
        text(
            """
            WITH rates AS (
                SELECT sla, attributes->>'queue' AS queue, count(*) AS closed
                FROM deadlines
                WHERE closed_at > :since AND closed_at <= :now AND state IN ('met', 'breached')
                GROUP BY 1, 2
            ), line AS (
                SELECT sla, attributes->>'queue' AS queue, due_at, state = 'breached' AS breached,
                       row_number() OVER (PARTITION BY sla, attributes->>'queue'
                                          ORDER BY due_at, opened_at, subject) AS place
                FROM deadlines
                WHERE closed_at IS NULL AND state IN ('open', 'breached')
            ), late AS (
                SELECT line.sla, line.due_at
                FROM line LEFT JOIN rates
                  ON rates.sla = line.sla AND rates.queue IS NOT DISTINCT FROM line.queue
                WHERE NOT line.breached AND (
                    line.due_at < :now
                    OR (rates.closed > 0 AND :now + make_interval(
                            secs => line.place * :window_s / rates.closed) > line.due_at))
            )
            SELECT sla, count(*) AS late, min(due_at) AS first_due_at FROM late GROUP BY sla
            """
        ),
        {"since": now - window, "now": now, "window_s": window.total_seconds()},
    )
    return {r.sla: PredictedBreaches(int(r.late), r.first_due_at) for r in rows}


def latest_per_subject(sla: str) -> Subquery:
    """The latest deadline of `sla` for each subject (subject, due_at, state, closed_at), as a
    subquery a service joins to its own rows: how a service reads deadlines without writing
    SQL against the kernel's table."""
    return (
        select(deadlines.c.subject, deadlines.c.due_at, deadlines.c.state, deadlines.c.closed_at)
        .where(deadlines.c.sla == sla)
        .ext(distinct_on(deadlines.c.subject))
        .order_by(deadlines.c.subject, deadlines.c.opened_at.desc())
        .subquery()
    )
