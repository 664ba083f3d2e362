"""Group commit: concurrent requests share one transaction, each answered after its commit.

A request hands its work to the committer and waits. One worker takes what is queued at that
moment, runs it in one unit of work and commits once, so BEGIN, COMMIT and the WAL flush are
paid once per batch. Nothing waits for a timer: a request that arrives alone is a batch of
one; batches grow only while the previous one is committing. If a batch fails, it is rolled
back and every piece runs again alone, in its own unit of work, so one bad request never
fails its neighbours.

Work comes in two shapes. `run(work)`: a function of the unit of work that writes and returns
the answer, never committing; a batch runs such pieces one after another. `run_batched(step,
item)`: the batch's items that share `step` are handed to it together, in arrival order, so
the step can write them with one statement instead of one each (intake's hot path).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar, cast

import structlog
from prometheus_client import Counter, Histogram

from lvyue.common.uow import UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger(__name__)

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741 - the item of a batched step
Work = Callable[[UnitOfWork], Awaitable[T]]
BatchStep = Callable[[UnitOfWork, Sequence[I]], Awaitable[Sequence[T]]]
"""Writes many items in the caller's unit of work; one result per item, in the items' order."""

BATCH_SIZE = Histogram(
    "lvyue_group_commit_batch_requests",
    "Requests committed together in one transaction",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)
FALLBACKS = Counter(
    "lvyue_group_commit_fallbacks_total", "Batches rolled back and run one request at a time"
)

_Entry = tuple[BatchStep[Any, Any], Any, asyncio.Future[Any]]


async def _one_by_one(uow: UnitOfWork, works: Sequence[Work[Any]]) -> list[Any]:
    return [await work(uow) for work in works]


class GroupCommitter:
    """`await committer.run(work)`: the work's result, once the transaction holding it committed."""

    def __init__(self, uow_factory: UnitOfWorkFactory, *, max_batch: int = 64) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._uow_factory = uow_factory
        self._max_batch = max_batch
        self._queue: list[_Entry] = []
        self._worker: asyncio.Task[None] | None = None

    async def run(self, work: Work[T]) -> T:
        return await self.run_batched(_one_by_one, work)

    async def run_batched(self, step: BatchStep[I, T], item: I) -> T:
        """`step`'s result for `item`, once committed; queued items of the same step share it."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((step, item, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain(), name="group-commit")
        return await future

    async def _drain(self) -> None:
        while self._queue:
            batch = self._queue[: self._max_batch]
            del self._queue[: len(batch)]
            await self._commit(batch)

    async def _commit(self, batch: list[_Entry]) -> None:
        try:
            async with self._uow_factory() as uow:
                results = await _run_steps(uow, batch)
                await uow.commit()
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][2], exception=exc)
                return
            FALLBACKS.inc()
            log.warning("group_commit_failed_one_by_one", requests=len(batch), error=repr(exc))
            for entry in batch:
                await self._commit([entry])
            return
        BATCH_SIZE.observe(len(batch))
        for (_, _, future), result in zip(batch, results, strict=True):
            _settle(future, result=result)


async def _run_steps(uow: UnitOfWork, batch: list[_Entry]) -> list[Any]:
    """Each step once with its items (steps in order of first arrival); results by entry."""
    by_step: dict[BatchStep[Any, Any], list[int]] = {}
    for index, (step, _, _) in enumerate(batch):
        by_step.setdefault(step, []).append(index)
    results: list[Any] = [None] * len(batch)
    for step, indexes in by_step.items():
        answers = await step(uow, [batch[i][1] for i in indexes])
        if len(answers) != len(indexes):
            raise RuntimeError(f"{step!r} answered {len(answers)} of {len(indexes)} items")
        for index, answer in zip(indexes, answers, strict=True):
            results[index] = answer
    return results


def _settle(
    future: asyncio.Future[Any], *, result: object = None, exception: Exception | None = None
) -> None:
    # A request whose client went away has a cancelled future; its work committed regardless
    # (a webhook sent again is then answered as a repeat).
    with contextlib.suppress(asyncio.InvalidStateError):
        if exception is not None:
            future.set_exception(exception)
        else:
            future.set_result(cast(Any, result))
