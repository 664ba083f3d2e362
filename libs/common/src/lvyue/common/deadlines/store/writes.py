"""Opening, closing and cancelling deadlines, in the caller's unit of work."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import DateTime, Text, Uuid, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY

from lvyue.common.deadlines import metrics
from lvyue.common.deadlines.store.reads import find_unclosed
from lvyue.common.deadlines.store.records import Deadline, DeadlineSpec, DeadlineState, NewDeadline
from lvyue.common.uow import UnitOfWork


async def open_deadline(
    uow: UnitOfWork,
    *,
    sla: str,
    subject: str,
    opened_at: datetime,
    due_at: datetime,
    queue: str | None = None,
) -> Deadline:
    """Opens a deadline; if (sla, subject) has one not closed yet, open or already breached,
    that one is returned. `queue` is who works it (the breach forecast goes by each queue's
    own pace)."""
    opened = await open_deadlines(
        uow, subject=subject, opened_at=opened_at, specs=(DeadlineSpec(sla, due_at, queue),)
    )
    return opened[sla]


# Many deadlines in one statement; those with an unclosed one are left as they are: a
# promise breached and not yet kept is not opened again with a fresh due time.
_OPEN_MANY = text(
    """
    INSERT INTO deadlines (id, sla, subject, state, opened_at, due_at, attributes)
    SELECT wanted.id, wanted.sla, wanted.subject, 'open', wanted.opened_at, wanted.due_at,
           CASE WHEN wanted.queue IS NULL THEN '{}'::jsonb
                ELSE jsonb_build_object('queue', wanted.queue) END
    FROM unnest(:ids, :slas, :subjects, :opened, :dues, :queues)
        AS wanted(id, sla, subject, opened_at, due_at, queue)
    ON CONFLICT (sla, subject) WHERE closed_at IS NULL DO NOTHING
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
        if (w.sla, w.subject) not in opened:  # unclosed already: that one stands
            existing = await find_unclosed(uow.session, sla=w.sla, subject=w.subject)
            assert existing is not None  # the conflict proves it exists
            opened[(w.sla, w.subject)] = existing
    return opened


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


# An open deadline is cancelled; one already breached keeps its breach and is closed: either
# way no work is left on it (the breach forecast reads every unclosed one).
_CANCEL = text(
    """
    UPDATE deadlines SET
        state = CASE WHEN state = 'open' THEN 'cancelled' ELSE state END,
        closed_at = :at
    WHERE sla = :sla AND subject = :subject AND closed_at IS NULL
    RETURNING state
    """
).bindparams(bindparam("at", type_=DateTime(timezone=True)))


async def cancel_deadline(uow: UnitOfWork, *, sla: str, subject: str, at: datetime) -> bool:
    """Ends the unclosed deadline of (sla, subject); True if it was open and is cancelled."""
    row = (await uow.session.execute(_CANCEL, {"sla": sla, "subject": subject, "at": at})).first()
    cancelled = row is not None and row.state == DeadlineState.CANCELLED
    if cancelled:
        uow.after_commit(lambda: metrics.record_cancelled(sla))
    return cancelled
