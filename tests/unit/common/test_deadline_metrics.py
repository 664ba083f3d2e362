"""Deadline metrics: closing a deadline counts it once, as met or breached, and times it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from lvyue.common.deadlines import metrics
from lvyue.common.deadlines.store import Deadline, DeadlineState

OPENED_AT = datetime(2024, 6, 18, 14, 0, tzinfo=UTC)


@pytest.fixture
def sla() -> str:
    # The Prometheus registry is process-wide: a fresh label keeps every test's counts its own.
    return f"unit-{uuid.uuid4().hex[:8]}"


def sample(name: str, sla: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, {"sla": sla, **labels}) or 0.0


def met(sla: str) -> float:
    return sample("lvyue_sla_deadlines_met_total", sla)


def breached(sla: str) -> float:
    return sample("lvyue_sla_deadlines_breached_total", sla)


def closes_observed(sla: str) -> float:
    return sample("lvyue_sla_time_to_close_seconds_count", sla)


def seconds_observed(sla: str) -> float:
    return sample("lvyue_sla_time_to_close_seconds_sum", sla)


def deadline(
    sla: str, state: DeadlineState, *, closed_after: timedelta | None, due_in: timedelta
) -> Deadline:
    closed_at = OPENED_AT + closed_after if closed_after is not None else None
    due_at = OPENED_AT + due_in
    return Deadline(
        id=uuid.uuid4(),
        sla=sla,
        subject=f"order-{uuid.uuid4().hex[:6]}",
        state=state,
        opened_at=OPENED_AT,
        due_at=due_at,
        closed_at=closed_at,
        breached_at=closed_at if state is DeadlineState.BREACHED else None,
    )


def test_closing_on_time_counts_one_met_and_observes_the_time_to_close(sla: str) -> None:
    closed = deadline(
        sla, DeadlineState.MET, closed_after=timedelta(minutes=90), due_in=timedelta(hours=2)
    )
    metrics.record_closed(closed, newly_breached=True)
    assert (met(sla), breached(sla)) == (1, 0)
    assert closes_observed(sla) == 1
    assert seconds_observed(sla) == 90 * 60


def test_closing_late_counts_one_breach_and_observes_the_time_to_close(sla: str) -> None:
    closed = deadline(
        sla, DeadlineState.BREACHED, closed_after=timedelta(hours=3), due_in=timedelta(hours=2)
    )
    metrics.record_closed(closed, newly_breached=True)
    assert (met(sla), breached(sla)) == (0, 1)
    assert closes_observed(sla) == 1
    assert seconds_observed(sla) == 3 * 3600


def test_closing_an_already_breached_deadline_only_observes_the_time_to_close(sla: str) -> None:
    # The scanner counted the breach when it happened; closing must not count it again.
    closed = deadline(
        sla, DeadlineState.BREACHED, closed_after=timedelta(hours=5), due_in=timedelta(hours=2)
    )
    metrics.record_closed(closed, newly_breached=False)
    assert (met(sla), breached(sla)) == (0, 0)
    assert closes_observed(sla) == 1
    assert seconds_observed(sla) == 5 * 3600


def test_time_to_close_lands_in_the_bucket_of_its_sla_limit(sla: str) -> None:
    closed = deadline(
        sla, DeadlineState.MET, closed_after=timedelta(minutes=4), due_in=timedelta(minutes=5)
    )
    metrics.record_closed(closed, newly_breached=True)
    bucket = "lvyue_sla_time_to_close_seconds_bucket"
    assert sample(bucket, sla, le="60.0") == 0
    assert sample(bucket, sla, le="300.0") == 1
    assert sample(bucket, sla, le="+Inf") == 1


def test_a_deadline_without_a_closing_time_is_not_observed(sla: str) -> None:
    still_open = deadline(sla, DeadlineState.MET, closed_after=None, due_in=timedelta(hours=2))
    metrics.record_closed(still_open, newly_breached=True)
    assert closes_observed(sla) == 0
    assert met(sla) == 1


def test_counts_accumulate_per_sla(sla: str) -> None:
    other = f"{sla}-other"
    for _ in range(3):
        metrics.record_closed(
            deadline(
                sla, DeadlineState.MET, closed_after=timedelta(minutes=1), due_in=timedelta(hours=1)
            ),
            newly_breached=True,
        )
    metrics.record_closed(
        deadline(
            other,
            DeadlineState.BREACHED,
            closed_after=timedelta(hours=2),
            due_in=timedelta(hours=1),
        ),
        newly_breached=True,
    )
    assert (met(sla), breached(sla), closes_observed(sla)) == (3, 0, 3)
    assert (met(other), breached(other), closes_observed(other)) == (0, 1, 1)


@pytest.mark.parametrize(
    ("record", "counter"),
    [
        (metrics.record_opened, "lvyue_sla_deadlines_opened_total"),
        (metrics.record_breached, "lvyue_sla_deadlines_breached_total"),
        (metrics.record_cancelled, "lvyue_sla_deadlines_cancelled_total"),
    ],
)
def test_record_functions_increment_their_counter_once(sla: str, record, counter: str) -> None:
    record(sla)
    assert sample(counter, sla) == 1
