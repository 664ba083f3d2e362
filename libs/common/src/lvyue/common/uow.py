"""Unit of work: the one place a transaction commits; leaving it uncommitted rolls back."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Self

from pydantic import BaseModel
from sqlalchemy import Text, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from lvyue.common.clock import Clock
from lvyue.common.db import SessionFactory
from lvyue.common.events import Envelope, EventType, new_event
from lvyue.common.outbox import stage_all
from lvyue.common.tables import inbox

# One statement for a whole batch, whatever its size (one cached plan, not one per length).
_MARK_MANY = text(
    "INSERT INTO inbox (consumer, event_id) SELECT :consumer, unnest(:ids) "
    "ON CONFLICT DO NOTHING RETURNING event_id"
).bindparams(bindparam("ids", type_=ARRAY(Text)))


class UnitOfWork:
    """`async with uow: ...; await uow.commit()`; events and hooks die with a rollback."""

    session: AsyncSession

    def __init__(
        self,
        session_factory: SessionFactory,
        *,
        source: str,
        clock: Clock,
        on_events_committed: Callable[[], None] | None = None,
        notify: bool = False,
    ) -> None:
        self._session_factory = session_factory
        self._notify = notify  # NOTIFY the relays of other processes when events are staged
        self.source = source
        self.clock = clock
        self._on_events_committed = on_events_committed
        self._after_commit: list[Callable[[], None]] = []
        self._staged: list[tuple[Envelope, str]] = []
        self._committed = False

    async def __aenter__(self) -> Self:
        self.session = self._session_factory()
        self._after_commit = []
        self._staged = []
        self._committed = False
        await self.session.begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                await self.session.rollback()
        finally:
            await self.session.close()

    async def commit(self) -> None:
        # The events emitted in this transaction, in one statement, just before it commits.
        staged, self._staged = self._staged, []
        await stage_all(self.session, staged, notify=self._notify)
        await self.session.commit()
        self._committed = True
        hooks, self._after_commit = self._after_commit, []
        for hook in hooks:
            hook()

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Runs `hook` only once the transaction has committed (metrics, logs)."""
        self._after_commit.append(hook)

    async def emit(self, spec: EventType, payload: BaseModel, *, subject: str) -> Envelope:
        """Writes an event to the outbox in this transaction (at commit, with the others);
        the relay publishes it later."""
        envelope = new_event(
            spec, payload, subject=subject, source=self.source, time=self.clock.now()
        )
        self._staged.append((envelope, spec.topic))
        hook = self._on_events_committed
        if hook is not None and hook not in self._after_commit:
            self._after_commit.append(hook)
        return envelope

    async def mark_processed(self, consumer: str, event_id: str) -> bool:
        """Records an event in the inbox; False if this consumer has processed it already."""
        result = await self.session.execute(
            insert(inbox)
            .values(consumer=consumer, event_id=event_id)
            .on_conflict_do_nothing()
            .returning(inbox.c.event_id)
        )
        return result.first() is not None

    async def mark_processed_many(self, consumer: str, event_ids: list[str]) -> set[str]:
        """Records many events in one statement; returns the ids not processed before."""
        if not event_ids:
            return set()
        result = await self.session.execute(_MARK_MANY, {"consumer": consumer, "ids": event_ids})
        return set(result.scalars())


class UnitOfWorkFactory:
    """Built once per process in bootstrap; call it for a fresh unit of work."""

    def __init__(
        self,
        session_factory: SessionFactory,
        *,
        source: str,
        clock: Clock,
        wall_clock: Clock | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.source = source
        self.clock = clock
        # Signature timestamps are real time even in a drill on a simulated business clock:
        # a platform signs with its own clock.
        self.wall_clock = wall_clock or clock
        # Set by bootstrap to wake the outbox relay as soon as new events are committed: this
        # process's relay by a call, another process's by NOTIFY in the transaction.
        self.on_events_committed: Callable[[], None] | None = None
        self.notify: bool = False

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(
            self.session_factory,
            source=self.source,
            clock=self.clock,
            on_events_committed=self.on_events_committed,
            notify=self.notify,
        )
