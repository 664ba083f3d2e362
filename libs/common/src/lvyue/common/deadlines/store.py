"""Deadline rows: open, close, cancel (all SQL for the deadlines table lives here)."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Text, Uuid, bindparam, case, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY, distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Subquery

from lvyue.common.deadlines import metrics
from lvyue.common.tables import deadlines
from lvyue.common.uow import UnitOfWork


class DeadlineState(StrEnum):
    OPEN = "open"
    MET = "met"
    BREACHED = "breached"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Deadline:
    id: uuid.UUID
    sla: str
    subject: str
    state: DeadlineState
    opened_at: datetime
    due_at: datetime
    closed_at: datetime | None
    breached_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> Deadline:
        return cls(
            id=row.id,
            sla=row.sla,
            subject=row.subject,
            state=DeadlineState(row.state),
            opened_at=row.opened_at,
            due_at=row.due_at,
            closed_at=row.closed_at,
            breached_at=row.breached_at,
        )


async def open_deadline(
    uow: UnitOfWork,
    *,
    sla: str,
    subject: str,
    opened_at: datetime,
    due_at: datetime,
    queue: str | None = None,
) -> Deadline:
    """Opens a deadline; if one is already open for (sla, subject) that one is returned.
    `queue` is who works it (the breach forecast goes by each queue's own pace)."""
    opened = await open_deadlines(
        uow, subject=subject, opened_at=opened_at, specs=(DeadlineSpec(sla, due_at, queue),)
    )
    return opened[sla]


@dataclass(frozen=True)
class DeadlineSpec:
    """One deadline to open: its SLA and when it falls due."""

    sla: str
    due_at: datetime
    queue: str | None = None


# Many deadlines in one statement; those already open are left as they are.
_OPEN_MANY = text(
    """
    INSERT INTO deadlines (id, sla, subject, state, opened_at, due_at, attributes)
    SELECT wanted.id, wanted.sla, wanted.subject, 'open', wanted.opened_at, wanted.due_at,
           CASE WHEN wanted.queue IS NULL THEN '{}'::jsonb
                ELSE jsonb_build_object('queue', wanted.queue) END
    FROM unnest(:ids, :slas, :subjects, :opened, :dues, :queues)
        AS wanted(id, sla, subject, opened_at, due_at, queue)
    ON CONFLICT (sla, subject) WHERE state = 'open' DO NOTHING
    RETURNING *
    """
).bindparams(
    bindparam("ids", type_=ARRAY(Uuid)),
    bindparam("slas", type_=ARRAY(Text)),
    bindparam("subjects", type_=ARRAY(Text)),
    bindparam("opened", type_=ARRAY(DateTime(timezone=True))),
    bindparam("dues", type_=ARRAY(DateTime(timezone=True))),
    bindparam("queues", type_=ARRAY(Text)),
)


@dataclass(frozen=True)
class NewDeadline:
    sla: str
    subject: str
    opened_at: datetime
    due_at: datetime
    # who works it (a warehouse, a shop's customer service): breach forecasts go per queue
    queue: str | None = None


async def open_deadlines(
    uow: UnitOfWork, *, subject: str, opened_at: datetime, specs: Sequence[DeadlineSpec]
) -> dict[str, Deadline]:
    """open_deadline for several SLAs of one subject at once; every one of them, by SLA."""
    opened = await open_many(
        uow,
        [NewDeadline(spec.sla, subject, opened_at, spec.due_at, spec.queue) for spec in specs],
    )
    return {sla: deadline for (sla, _), deadline in opened.items()}


async def open_many(
    uow: UnitOfWork, wanted: Sequence[NewDeadline]
) -> dict[tuple[str, str], Deadline]:
    """open_deadline for many (sla, subject) pairs in one statement; each, open, by pair."""
    if not wanted:
        return {}
    rows = (
        await uow.session.execute(
            _OPEN_MANY,
            {
                "ids": [uuid.uuid4() for _ in wanted],
                "slas": [w.sla for w in wanted],
                "subjects": [w.subject for w in wanted],
                "opened": [w.opened_at for w in wanted],
                "dues": [w.due_at for w in wanted],
                "queues": [w.queue for w in wanted],
            },
        )
    ).all()
    opened = {(row.sla, row.subject): Deadline.from_row(row) for row in rows}
    for sla, _ in opened:
        uow.after_commit(functools.partial(metrics.record_opened, sla))
    for w in wanted:
        if (w.sla, w.subject) not in opened:  # open already: that one stands
            existing = await find_open(uow.session, sla=w.sla, subject=w.subject)
            assert existing is not None  # the conflict proves it exists
            opened[(w.sla, w.subject)] = existing
    return opened


async def find_open(session: AsyncSession, *, sla: str, subject: str) -> Deadline | None:
    row = (
        await session.execute(
            select(deadlines).where(
                deadlines.c.sla == sla, deadlines.c.subject == subject, deadlines.c.state == "open"
            )
        )
    ).first()
    return Deadline.from_row(row) if row else None


async def for_subject(session: AsyncSession, subject: str) -> list[Deadline]:
    rows = await session.execute(
        select(deadlines).where(deadlines.c.subject == subject).order_by(deadlines.c.opened_at)
    )
    return [Deadline.from_row(r) for r in rows]


# One round trip: lock the latest unclosed deadline of each SLA and close it. Met if on time;
# closing an open one after its due time (before the scanner saw it) is still a breach; a
# breached one keeps its breach.
_CLOSE = text(
    """
    WITH target AS (
        SELECT latest.id, latest.state AS previous_state
        FROM unnest(:slas, :subjects) AS wanted(sla, subject)
        CROSS JOIN LATERAL (
            SELECT id, state FROM deadlines
            WHERE sla = wanted.sla AND subject = wanted.subject AND closed_at IS NULL
              AND state IN ('open', 'breached')
            ORDER BY opened_at DESC LIMIT 1
            FOR UPDATE
        ) AS latest
    )
    UPDATE deadlines AS d SET
        state = CASE WHEN d.state = 'open' AND :closed_at <= d.due_at THEN 'met'
                     ELSE 'breached' END,
        closed_at = :closed_at,
        breached_at = COALESCE(
            d.breached_at,
            CASE WHEN d.state = 'breached' OR :closed_at > d.due_at THEN :closed_at END)
    FROM target
    WHERE d.id = target.id
    RETURNING d.*, target.previous_state
    """
).bindparams(
    bindparam("slas", type_=ARRAY(Text)),
    bindparam("subjects", type_=ARRAY(Text)),
    bindparam("closed_at", type_=DateTime(timezone=True)),
)


async def close_deadline(
    uow: UnitOfWork, *, sla: str, subject: str, closed_at: datetime
) -> Deadline | None:
    """Closes the latest unclosed deadline: met if on time; a breached one keeps its breach."""
    closed = await close_many(uow, [(sla, subject)], closed_at=closed_at)
    return closed[0] if closed else None


async def close_deadlines(
    uow: UnitOfWork, *, slas: Sequence[str], subject: str, closed_at: datetime
) -> list[Deadline]:
    """close_deadline for several SLAs of one subject in one statement; those it closed."""
    return await close_many(uow, [(sla, subject) for sla in slas], closed_at=closed_at)


async def close_many(
    uow: UnitOfWork, pairs: Sequence[tuple[str, str]], *, closed_at: datetime
) -> list[Deadline]:
    """close_deadline for many (sla, subject) pairs in one statement; those it closed."""
    if not pairs:
        return []
    rows = (
        await uow.session.execute(
            _CLOSE,
            {
                "slas": [sla for sla, _ in pairs],
                "subjects": [subject for _, subject in pairs],
                "closed_at": closed_at,
            },
        )
    ).all()
    closed = []
    for row in rows:
        deadline = Deadline.from_row(row)
        was_open = row.previous_state == DeadlineState.OPEN
        uow.after_commit(
            functools.partial(metrics.record_closed, deadline, newly_breached=was_open)
        )
        closed.append(deadline)
    return closed


async def cancel_deadline(uow: UnitOfWork, *, sla: str, subject: str, at: datetime) -> bool:
    result = await uow.session.execute(
        update(deadlines)
        .where(deadlines.c.sla == sla, deadlines.c.subject == subject, deadlines.c.state == "open")
        .values(state=DeadlineState.CANCELLED, closed_at=at)
        .returning(deadlines.c.id)
    )
    cancelled = result.first() is not None
    if cancelled:
        uow.after_commit(lambda: metrics.record_cancelled(sla))
    return cancelled


@dataclass(frozen=True)
class Pending:
    """An unclosed deadline (open or breached): work its queue has still to do."""

    id: uuid.UUID
    sla: str
    subject: str
    queue: str | None
    due_at: datetime
    breached: bool


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


@dataclass(frozen=True)
class OpenCounts:
    """Open deadlines of one SLA now: all, past the at-risk share of their time, past due."""

    open: int
    at_risk: int
    overdue: int


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


@dataclass(frozen=True)
class Outcomes:
    """Deadlines of one SLA decided in a window: met (closed in time) and breached."""

    met: int
    breached: int

    @property
    def compliance(self) -> float | None:
        decided = self.met + self.breached
        return self.met / decided if decided else None


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
