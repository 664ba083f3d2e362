"""What a service hands the consumer runner: a handler per topic, and how to retry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from lvyue.common.events import Envelope, EventType
from lvyue.common.uow import UnitOfWork

Handler = Callable[[Envelope, UnitOfWork], Awaitable[None]]
BatchHandler = Callable[[Sequence[Envelope], UnitOfWork], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    """A topic's handler. `batch_handler`, where given, takes every new event of the topic in
    one poll at once (offset order per partition) with the same effect as `handler` applied to
    each in turn; `handler` stays the path of a batch that failed."""

    event: EventType
    handler: Handler
    batch_handler: BatchHandler | None = None


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    initial_s: float = 0.2
    max_s: float = 5.0
