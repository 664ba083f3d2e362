"""Deadline metrics: counters per SLA, open / at-risk gauges, time to close (ARCHITECTURE.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge, Histogram

if TYPE_CHECKING:
    from lvyue.common.deadlines.store import Deadline

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
