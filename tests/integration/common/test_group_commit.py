"""Group commit against the real PostgreSQL: concurrent requests share a transaction, each is
answered only once its rows are committed, and a failing one fails alone."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.common.clock import SystemClock
from lvyue.common.db import make_session_factory
from lvyue.common.deadlines.store import open_deadline
from lvyue.common.group_commit import GroupCommitter
from lvyue.common.tables import deadlines
from lvyue.common.uow import UnitOfWork, UnitOfWorkFactory

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _committer(engine: AsyncEngine, max_batch: int = 64) -> GroupCommitter:
    factory = UnitOfWorkFactory(make_session_factory(engine), source="/test", clock=SystemClock())
    return GroupCommitter(factory, max_batch=max_batch)


async def _visible(engine: AsyncEngine, subject: str) -> bool:
    """Seen from another connection: committed."""
    async with engine.connect() as conn:
        found = await conn.execute(select(func.count()).where(deadlines.c.subject == subject))
        return bool(found.scalar_one())


async def test_concurrent_requests_share_transactions_and_are_answered_after_the_commit(
    engine: AsyncEngine,
) -> None:
    committer = _committer(engine)

    async def request(n: int) -> tuple[int, bool]:
        async def work(uow: UnitOfWork) -> int:
            await open_deadline(uow, sla="test", subject=f"r-{n}", opened_at=NOW, due_at=NOW)
            return int((await uow.session.execute(text("SELECT txid_current()"))).scalar_one())

        txid = await committer.run(work)
        return txid, await _visible(engine, f"r-{n}")

    answers = await asyncio.gather(*(request(n) for n in range(30)))
    assert all(visible for _, visible in answers)  # never answered before its commit
    assert len({txid for txid, _ in answers}) < 30  # several requests per transaction


async def test_a_failing_request_fails_alone(engine: AsyncEngine) -> None:
    committer = _committer(engine)

    async def request(n: int) -> str:
        async def work(uow: UnitOfWork) -> str:
            await open_deadline(uow, sla="test", subject=f"f-{n}", opened_at=NOW, due_at=NOW)
            if n == 4:
                raise RuntimeError("request 4 is broken")
            return f"f-{n}"

        return await committer.run(work)

    results = await asyncio.gather(*(request(n) for n in range(10)), return_exceptions=True)
    assert [str(r) for r in results] == [
        "request 4 is broken" if n == 4 else f"f-{n}" for n in range(10)
    ]
    for n in range(10):
        assert await _visible(engine, f"f-{n}") is (n != 4)


async def test_a_request_alone_is_committed_at_once(engine: AsyncEngine) -> None:
    committer = _committer(engine, max_batch=1)

    async def work(uow: UnitOfWork) -> str:
        await open_deadline(uow, sla="test", subject="alone", opened_at=NOW, due_at=NOW)
        return "done"

    assert await asyncio.wait_for(committer.run(work), timeout=10) == "done"
    assert await _visible(engine, "alone")


def test_a_batch_holds_at_least_one_request(engine: AsyncEngine) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        _committer(engine, max_batch=0)


async def test_batched_items_of_one_step_are_written_together_and_a_bad_one_fails_alone(
    engine: AsyncEngine,
) -> None:
    committer = _committer(engine)
    calls: list[list[int]] = []

    async def step(uow: UnitOfWork, items: Sequence[int]) -> list[str]:
        calls.append(list(items))
        if 7 in items:
            raise ValueError("item 7 is broken")
        for n in items:
            await open_deadline(uow, sla="test", subject=f"b-{n}", opened_at=NOW, due_at=NOW)
        return [f"b-{n}" for n in items]

    results = await asyncio.gather(
        *(committer.run_batched(step, n) for n in range(12)), return_exceptions=True
    )
    assert [str(r) for r in results] == [
        "item 7 is broken" if n == 7 else f"b-{n}" for n in range(12)
    ]
    assert any(len(items) > 1 for items in calls)  # handed over together, not one by one
    assert all(items == sorted(items) for items in calls)  # in arrival order
    for n in range(12):
        assert await _visible(engine, f"b-{n}") is (n != 7)
