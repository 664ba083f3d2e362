"""Deadline rows: open, close, cancel, read and scan them. All SQL for the kernel's deadlines
table lives in this package: records.py (the rows), writes.py, reads.py, scanner.py."""

from lvyue.common.deadlines.store.reads import (
    completions,
    find_unclosed,
    for_subject,
    hourly_outcomes,
    latest_per_subject,
    pending,
    predicted_breaches,
)
from lvyue.common.deadlines.store.records import (
    Deadline,
    DeadlineSpec,
    DeadlineState,
    NewDeadline,
    OpenCounts,
    Outcomes,
    Pending,
    PredictedBreaches,
)
from lvyue.common.deadlines.store.scanner import (
    breach_overdue,
    open_counts,
    outcomes_since,
    serial_reads,
)
from lvyue.common.deadlines.store.writes import (
    cancel_deadline,
    close_deadline,
    close_deadlines,
    close_many,
    open_deadline,
    open_deadlines,
    open_many,
)

__all__ = [
    "Deadline",
    "DeadlineSpec",
    "DeadlineState",
    "NewDeadline",
    "OpenCounts",
    "Outcomes",
    "Pending",
    "PredictedBreaches",
    "breach_overdue",
    "cancel_deadline",
    "close_deadline",
    "close_deadlines",
    "close_many",
    "completions",
    "find_unclosed",
    "for_subject",
    "hourly_outcomes",
    "latest_per_subject",
    "open_counts",
    "open_deadline",
    "open_deadlines",
    "open_many",
    "outcomes_since",
    "pending",
    "predicted_breaches",
    "serial_reads",
]
