"""The open / at-risk / overdue counts behind the lvyue_sla_* gauges, on the real PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.common.db import make_session_factory
from lvyue.common.deadlines.store import OpenCounts, open_counts, serial_reads
from lvyue.common.tables import deadlines

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SHORT = timedelta(minutes=100)  # at risk from 80 min at 0.8
LONG = timedelta(days=3)  # at risk from 57 h 36 min at 0.8: days in the interval arithmetic


@pytest.mark.parametrize(
    ("elapsed", "fraction", "expected"),
    [
        (timedelta(0), 0.8, OpenCounts(open=2, at_risk=0, overdue=0)),
        (timedelta(minutes=80) - timedelta(microseconds=1), 0.8, OpenCounts(2, 0, 0)),
        (timedelta(minutes=80), 0.8, OpenCounts(2, 1, 0)),  # the line itself is at risk
        (SHORT - timedelta(seconds=1), 0.8, OpenCounts(2, 1, 0)),
        (SHORT, 0.8, OpenCounts(2, 1, 0)),  # at the due time itself still on time: at risk
        (SHORT + timedelta(microseconds=1), 0.8, OpenCounts(2, 0, 1)),  # past due: overdue
        (timedelta(hours=57, minutes=36) - timedelta(seconds=1), 0.8, OpenCounts(2, 0, 1)),
        (timedelta(hours=57, minutes=36), 0.8, OpenCounts(2, 1, 1)),
        (LONG, 0.8, OpenCounts(2, 1, 1)),
        (LONG + timedelta(microseconds=1), 0.8, OpenCounts(2, 0, 2)),
        (timedelta(minutes=50), 0.5, OpenCounts(2, 1, 0)),
        (timedelta(hours=36), 0.5, OpenCounts(2, 1, 1)),
        (timedelta(0), 0.0, OpenCounts(2, 2, 0)),  # 0: at risk from the start
        (SHORT - timedelta(seconds=1), 1.0, OpenCounts(2, 0, 0)),  # 1: never before due
    ],
)
async def test_at_risk_starts_where_the_fraction_of_the_allowed_time_has_passed(
    engine: AsyncEngine, elapsed: timedelta, fraction: float, expected: OpenCounts
) -> None:
    sla = f"gauge_{uuid.uuid4().hex[:8]}"
    async with engine.begin() as conn:
        await conn.execute(
            insert(deadlines),
            [
                {"id": uuid.uuid4(), "sla": sla, "subject": f"order-{n}", "state": "open",
                 "opened_at": START, "due_at": START + allowed}
                for n, allowed in enumerate((SHORT, LONG))
            ],
        )  # fmt: skip
    async with make_session_factory(engine)() as session:
        counts = await open_counts(session, now=START + elapsed, at_risk_fraction=fraction)
    assert counts[sla] == expected


async def test_the_gauges_reads_run_without_parallel_workers_for_their_transaction_only(
    engine: AsyncEngine,
) -> None:
    show = text("SHOW max_parallel_workers_per_gather")
    async with make_session_factory(engine)() as session:
        before = (await session.execute(show)).scalar_one()
        await session.commit()
        await serial_reads(session)
        assert (await session.execute(show)).scalar_one() == "0"
        await session.commit()
        assert (await session.execute(show)).scalar_one() == before
