"""Deadline metrics: counters per SLA, open / at-risk gauges, time to close (ARCHITECTURE.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge, Histogram

if TYPE_CHECKING:
    from lvyue.common.deadlines.store import Deadline, Outcomes

# Buckets (seconds) include every SLA limit of the manual: 5 min, 2 h, 24 h, 48 h, and cut-offs.
TIME_TO_CLOSE_BUCKETS = (
    60, 300, 600, 1800, 3600, 5400, 7200, 10800, 14400, 21600, 28800, 43200, 64800,
    86400, 129600, 172800, 259200, 345600, 604800,
)  # fmt: skip

OPENED = Counter("lvyue_sla_deadlines_opened_total", "Deadlines opened", ["sla"])
MET = Counter("lvyue_sla_deadlines_met_total", "Deadlines closed on time", ["sla"])
BREACHED = Counter("lvyue_sla_deadlines_breached_total", "Deadlines breached", ["sla"])
CANCELLED = Counter("lvyue_sla_deadlines_cancelled_total", "Deadlines cancelled", ["sla"])
OPEN = Gauge("lvyue_sla_open", "Deadlines open now (read from the database)", ["sla"])
AT_RISK = Gauge("lvyue_sla_at_risk", "Open deadlines past the at-risk share of their time", ["sla"])
OVERDUE = Gauge("lvyue_sla_overdue", "Open deadlines already past due", ["sla"])
# The counters above start at zero with each process; these are read from the database.
RECENT_MET = Gauge(
    "lvyue_sla_recent_met", "Deadlines met within the compliance window (database)", ["sla"]
)
RECENT_BREACHED = Gauge(
    "lvyue_sla_recent_breached", "Deadlines breached within the compliance window (database)",
    ["sla"],
)  # fmt: skip
COMPLIANCE_WINDOW = Gauge(
    "lvyue_sla_compliance_window_seconds", "The window of lvyue_sla_recent_met and _breached"
)
TIME_TO_CLOSE = Histogram(
    "lvyue_sla_time_to_close_seconds",
    "From opening to closing a deadline",
    ["sla"],
    buckets=TIME_TO_CLOSE_BUCKETS,
)


def record_opened(sla: str) -> None:
    OPENED.labels(sla).inc()


def record_breached(sla: str) -> None:
    BREACHED.labels(sla).inc()


def record_cancelled(sla: str) -> None:
    CANCELLED.labels(sla).inc()


def record_closed(deadline: Deadline, *, newly_breached: bool) -> None:
    """A deadline that was open is now met or late; one the scanner breached only closes."""
    if deadline.closed_at is not None:
        TIME_TO_CLOSE.labels(deadline.sla).observe(
            (deadline.closed_at - deadline.opened_at).total_seconds()
        )
    if not newly_breached:
        return
    if deadline.state == "met":
        MET.labels(deadline.sla).inc()
    elif deadline.state == "breached":
        BREACHED.labels(deadline.sla).inc()


def export_outcomes(
    outcomes: Mapping[str, Outcomes], *, window: timedelta, slas: Iterable[str]
) -> None:
    """Sets the window gauges; an SLA seen before but with nothing decided lately reads 0."""
    COMPLIANCE_WINDOW.set(window.total_seconds())
    for sla in set(slas) | set(outcomes):
        row = outcomes.get(sla)
        RECENT_MET.labels(sla).set(row.met if row else 0)
        RECENT_BREACHED.labels(sla).set(row.breached if row else 0)
