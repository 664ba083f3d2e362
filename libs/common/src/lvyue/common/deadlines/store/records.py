"""The deadline rows as the kernel and the services read them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


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


@dataclass(frozen=True)
class DeadlineSpec:
    """One deadline to open: its SLA and when it falls due."""

    sla: str
    due_at: datetime
    queue: str | None = None


@dataclass(frozen=True)
class NewDeadline:
    sla: str
    subject: str
    opened_at: datetime
    due_at: datetime
    # who works it (a warehouse, a shop's customer service): breach forecasts go per queue
    queue: str | None = None


@dataclass(frozen=True)
class Pending:
    """An unclosed deadline (open or breached): work its queue has still to do."""

    id: uuid.UUID
    sla: str
    subject: str
    queue: str | None
    due_at: datetime
    breached: bool


@dataclass(frozen=True)
class OpenCounts:
    """Open deadlines of one SLA now: all, past the at-risk share of their time, past due."""

    open: int
    at_risk: int
    overdue: int


@dataclass(frozen=True)
class Outcomes:
    """Deadlines of one SLA decided in a window: met (closed in time) and breached."""

    met: int
    breached: int

    @property
    def compliance(self) -> float | None:
        decided = self.met + self.breached
        return self.met / decided if decided else None


@dataclass(frozen=True)
class PredictedBreaches:
    """Open deadlines of one SLA the breach forecast says will be done after they are due."""

    count: int
    first_due_at: datetime | None  # the soonest due of them
