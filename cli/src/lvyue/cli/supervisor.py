"""`lvyue run` keeps what it started running: a process that dies is started again alone,
after a backoff that doubles with each crash, until too many crashes within a window."""

from __future__ import annotations

import contextlib
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

from lvyue.cli.embedded import EmbeddedBroker, EmbeddedPostgres


@dataclass(frozen=True)
class RestartPolicy:
    backoff_s: float = 0.25
    backoff_max_s: float = 8.0
    crash_limit: int = 5
    crash_window_s: float = 60.0

    def backoff(self, crashes: int) -> float:
        """The wait before restarting after the `crashes`-th crash of the current window."""
        return float(min(self.backoff_s * 2 ** max(crashes - 1, 0), self.backoff_max_s))


class Unit(Protocol):
    """A process `lvyue run` started and can start again."""

    @property
    def name(self) -> str: ...

    @property
    def pid(self) -> int | None: ...

    @property
    def needs_database(self) -> bool:
        """Its restart fails while PostgreSQL is down: it waits for PostgreSQL instead."""
        ...

    @property
    def slow_restart(self) -> bool:
        """Its restart blocks for a while: Ctrl-C may cut it short."""
        ...

    def exit_status(self) -> str | None:
        """None while it runs; else how it ended (`exit code 3`, `killed by SIGKILL`)."""
        ...

    def restart(self) -> None: ...


class Stoppable(Protocol):
    """A process the broker's restart stops and starts again (one that consumes)."""

    @property
    def name(self) -> str: ...

    def exit_status(self) -> str | None: ...

    def restart(self) -> None: ...

    def stop(self) -> None:
        """Ends it at once (SIGKILL): what it did not commit is done again after a restart."""
        ...


class CrashLoopError(RuntimeError):
    """A unit crashed more often than the policy allows: lvyue stops everything."""


@dataclass
class _Watch:
    unit: Unit
    crashes: deque[float] = field(default_factory=deque)
    restarts: int = 0
    due: float | None = None  # while down: when the next restart attempt is


class Supervisor:
    """Notices what died and restarts it when its backoff is over; called from one loop."""

    def __init__(
        self,
        units: Sequence[Unit],
        policy: RestartPolicy,
        *,
        say: Callable[[str], None],
        interruptible: Callable[[], AbstractContextManager[None]] = contextlib.nullcontext,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # PostgreSQL first: what needs it is restarted only once it is back.
        self._watches = sorted((_Watch(u) for u in units), key=lambda w: w.unit.needs_database)
        self._policy = policy
        self._say = say
        self._interruptible = interruptible
        self._clock = clock

    def tick(self) -> None:
        """Raises CrashLoopError when a unit crashed `crash_limit` times within the window."""
        for watch in self._watches:
            if watch.due is None and (status := watch.unit.exit_status()) is not None:
                self._crashed(watch, f"{watch.unit.name} (pid {watch.unit.pid}) died: {status}")
        for watch in self._watches:
            if watch.due is None or watch.due > self._clock():
                continue
            if watch.unit.needs_database and self._database_down():
                continue
            try:
                if watch.unit.slow_restart:
                    with self._interruptible():
                        watch.unit.restart()
                else:
                    watch.unit.restart()
            except Exception as exc:
                self._crashed(watch, f"{watch.unit.name} failed to restart: {exc}")
            else:
                watch.due = None

    def _database_down(self) -> bool:
        return any(w.due is not None for w in self._watches if not w.unit.needs_database)

    def _crashed(self, watch: _Watch, what: str) -> None:
        now = self._clock()
        window = self._policy.crash_window_s
        watch.crashes.append(now)
        while watch.crashes and watch.crashes[0] < now - window:
            watch.crashes.popleft()
        crashes = len(watch.crashes)
        if crashes >= self._policy.crash_limit:
            raise CrashLoopError(
                f"{what}; {crashes} crashes within {window:g}s (limit {self._policy.crash_limit}):"
                " giving up, stopping everything"
            )
        delay = self._policy.backoff(crashes)
        watch.restarts += 1
        watch.due = now + delay
        self._say(
            f"{what}; restart #{watch.restarts} in {delay:.2f}s"
            f" ({crashes} of {self._policy.crash_limit} crashes allowed within {window:g}s)"
        )


@dataclass
class PostgresUnit:
    """The embedded PostgreSQL: started again on the same data directory."""

    postgres: EmbeddedPostgres
    name: str = "PostgreSQL"
    needs_database: bool = False
    slow_restart: bool = True

    @property
    def pid(self) -> int | None:
        return self.postgres.pid

    def exit_status(self) -> str | None:
        return self.postgres.exit_status()

    def restart(self) -> None:
        self.postgres.restart()


@dataclass
class BrokerUnit:
    """The embedded broker: started again on the same port, empty (memory storage), then
    `on_new_broker` does what a normal start does for a new broker (topics, outbox replay).

    The processes that consume are stopped before the new broker starts and started again
    after the replay (`consumers`): a consumer's fetch positions belong to the lost broker,
    and one carried over to the new log would skip what was published there before it.
    """

    broker: EmbeddedBroker
    on_new_broker: Callable[[], None]
    consumers: Sequence[Stoppable] = ()
    say: Callable[[str], None] = print
    name: str = "broker"
    needs_database: bool = True  # the replay reads the services' outboxes
    slow_restart: bool = True

    @property
    def pid(self) -> int | None:
        return self.broker.pid

    def exit_status(self) -> str | None:
        return self.broker.exit_status()

    def restart(self) -> None:
        if self.broker.exit_status() is not None:  # a failed replay is retried on the live one
            for unit in self.consumers:
                unit.stop()
            self.broker.start()
        self.on_new_broker()
        stopped = [unit for unit in self.consumers if unit.exit_status() is not None]
        for unit in stopped:
            unit.restart()
        if stopped:
            self.say(
                "broker restarted: consumers started again on it"
                f" ({', '.join(u.name for u in stopped)})"
            )


class Interrupts:
    """SIGINT/SIGTERM handling: a flag the main loop polls, and sections that a signal cuts
    short at once (starting PostgreSQL, waiting for readiness) so Ctrl-C is never held up."""

    def __init__(self) -> None:
        self.count = 0
        self._raise = False

    @property
    def requested(self) -> bool:
        return self.count > 0

    def install(self) -> Interrupts:
        signal.signal(signal.SIGINT, self._handle)
        signal.signal(signal.SIGTERM, self._handle)
        return self

    def _handle(self, signum: int, _frame: object) -> None:
        self.count += 1
        if self._raise:
            self._raise = False  # once: the cleanup after it is not cut short again
            raise KeyboardInterrupt(signal.Signals(signum).name)

    @contextlib.contextmanager
    def interruptible(self) -> Iterator[None]:
        if self.requested:
            raise KeyboardInterrupt("stop requested")
        self._raise = True
        try:
            yield
        finally:
            self._raise = False
        if self.requested:
            # The signal's KeyboardInterrupt was lost: raised where Python ignores exceptions
            # (a weakref callback, a __del__ run by the collector) and the section went on.
            raise KeyboardInterrupt("stop requested")
