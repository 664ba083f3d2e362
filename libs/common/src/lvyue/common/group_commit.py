"""Group commit: concurrent requests share one transaction, each answered after its commit.

A request hands its work (a function of the unit of work that writes and returns the answer,
never committing) to the committer and waits. One worker takes what is queued at that moment,
runs the pieces one after another in one unit of work and commits once, so BEGIN, COMMIT and
the WAL flush are paid once per batch. Nothing waits for a timer: a request that arrives alone
is a batch of one; batches grow only while the previous one is committing. If a batch fails,
it is rolled back and every piece runs again alone, in its own unit of work, so one bad
request never fails its neighbours.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

import structlog
from prometheus_client import Counter, Histogram

from lvyue.common.uow import UnitOfWork, UnitOfWorkFactory

log = structlog.get_logger(__name__)

T = TypeVar("T")
Work = Callable[[UnitOfWork], Awaitable[T]]

BATCH_SIZE = Histogram(
    "lvyue_group_commit_batch_requests",
    "Requests committed together in one transaction",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)
FALLBACKS = Counter(
    "lvyue_group_commit_fallbacks_total", "Batches rolled back and run one request at a time"
)


class GroupCommitter:
    """`await committer.run(work)`: the work's result, once the transaction holding it committed."""

    def __init__(self, uow_factory: UnitOfWorkFactory, *, max_batch: int = 64) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._uow_factory = uow_factory
        self._max_batch = max_batch
        self._queue: list[tuple[Work[Any], asyncio.Future[Any]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def run(self, work: Work[T]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((work, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain(), name="group-commit")
        return await future

    async def _drain(self) -> None:
        while self._queue:
            batch = self._queue[: self._max_batch]
            del self._queue[: len(batch)]
            await self._commit(batch)

    async def _commit(self, batch: list[tuple[Work[Any], asyncio.Future[Any]]]) -> None:
        try:
            async with self._uow_factory() as uow:
                results = [await work(uow) for work, _ in batch]
                await uow.commit()
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exception=exc)
                return
            FALLBACKS.inc()
            log.warning("group_commit_failed_one_by_one", requests=len(batch), error=repr(exc))
            for work, future in batch:
                await self._commit([(work, future)])
            return
        BATCH_SIZE.observe(len(batch))
        for (_, future), result in zip(batch, results, strict=True):
            _settle(future, result=result)


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
