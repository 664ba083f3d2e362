"""Breach forecast: when each unclosed deadline will be done, and whether that is too late.

Each (SLA, queue) — a warehouse for dispatch, a shop's customer service for abnormal orders
and after-sale cases (`shop_queue`), the service's one queue otherwise — is worked
at the rate it closed deadlines over the recent window, soonest due first: the k-th deadline
in line is done after k + 1 completions, at `now + (k + 1) / rate`. A queue that closed
nothing in the window has no forecast (no rate to go by), unless a deadline is already past
due. Pure computation (`forecast`) over rows the store reads (`read_forecast`), for the list of
deadlines; the counts per SLA (gauges, SLA board) are the same rule in one SQL statement
(`store.predicted_breaches`).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncSession

from lvyue.common.deadlines import store
from lvyue.common.deadlines.store import Pending, PredictedBreaches

PREDICTED_BREACHES = Gauge(
    "lvyue_sla_predicted_breaches",
    "Open deadlines (not yet breached) the forecast says will be done after they are due",
    ["sla"],
)
FIRST_PREDICTED_BREACH = Gauge(
    "lvyue_sla_first_predicted_breach_seconds",
    "Seconds until the soonest due of the deadlines predicted to breach (+Inf: none)",
    ["sla"],
)


def shop_queue(platform: str, shop_id: str) -> str:
    """The queue of a shop's customer service (客服): who answers its abnormal orders and its
    after-sale cases, at a pace of their own."""
    return f"{platform}/{shop_id}"


DEFAULT_WINDOW = timedelta(hours=1)
DEFAULT_LIMIT = 10_000  # unclosed deadlines read per forecast


@dataclass(frozen=True)
class Forecast:
    deadline_id: uuid.UUID
    sla: str
    subject: str
    queue: str | None
    due_at: datetime
    position: int  # in its queue's line, 0 = next
    rate_per_hour: float  # the queue's recent completion rate
    predicted_at: datetime | None  # None: the queue closed nothing lately
    will_breach: bool | None  # None: unknown (no rate, not yet due)
    breached: bool  # already past due and marked


def forecast(
    pending: Iterable[Pending],
    completed: Mapping[tuple[str, str | None], int],
    *,
    now: datetime,
    window: timedelta = DEFAULT_WINDOW,
) -> list[Forecast]:
    """One forecast per unclosed deadline; `pending` must be ordered by sla, queue, due_at."""
    result = []
    for (sla, queue), line in itertools.groupby(pending, key=lambda p: (p.sla, p.queue)):
        done = completed.get((sla, queue), 0)
        per_second = done / window.total_seconds()
        for position, item in enumerate(line):
            predicted = (
                now + timedelta(seconds=(position + 1) / per_second) if per_second > 0 else None
            )
            if item.breached or item.due_at < now:
                will_breach: bool | None = True
            elif predicted is None:
                will_breach = None
            else:
                will_breach = predicted > item.due_at
            result.append(
                Forecast(
                    deadline_id=item.id,
                    sla=sla,
                    subject=item.subject,
                    queue=queue,
                    due_at=item.due_at,
                    position=position,
                    rate_per_hour=round(per_second * 3600, 3),
                    predicted_at=predicted,
                    will_breach=will_breach,
                    breached=item.breached,
                )
            )
    return result


async def read_forecast(
    session: AsyncSession,
    *,
    now: datetime,
    window: timedelta = DEFAULT_WINDOW,
    limit: int = DEFAULT_LIMIT,
) -> list[Forecast]:
    pending = await store.pending(session, limit=limit)
    completed = await store.completions(session, since=now - window, until=now)
    return forecast(pending, completed, now=now, window=window)


def export(
    predicted: Mapping[str, PredictedBreaches], *, now: datetime, slas: Iterable[str] = ()
) -> None:
    """Sets the gauges from `store.predicted_breaches`: deadlines predicted to breach (not yet
    breached) per SLA, and the time until the soonest due of them."""
    for sla in {*slas, *predicted}:
        late = predicted.get(sla)
        PREDICTED_BREACHES.labels(sla).set(late.count if late else 0)
        first = late.first_due_at if late else None
        FIRST_PREDICTED_BREACH.labels(sla).set(
            (first - now).total_seconds() if first is not None else float("inf")
        )
