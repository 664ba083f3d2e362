"""`lvyue run` restarts a service process that hangs, as it restarts one that dies: a process
whose event loop is blocked (a call that never returns, a stopped process) still runs, so no
exit tells the supervisor. Each service's `/livez` is asked every `interval_s` (every second
until a new process first answers), in threads of their own so that a hung process never holds
up the run loop; one that misses `failures` answers in a row, once it answered or once
`start_grace_s` have passed since it started, is killed (SIGKILL), and the supervisor starts it
again after its backoff, counting it as a crash. Kubernetes does the same with the deploy
files' liveness probes."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

import httpx

# Until a new process first answers: it is known live as soon as it is, so that a hang right
# after its start counts from then.
_STARTING_INTERVAL_S = 1.0


@dataclass(frozen=True)
class LivenessPolicy:
    interval_s: float = 5.0  # between two probes of one process
    timeout_s: float = 3.0  # one /livez answer
    failures: int = 3  # missed in a row: hung (0: never probe)
    start_grace_s: float = 60.0  # a new process's misses count once it answered, or after this

    @property
    def enabled(self) -> bool:
        return self.failures > 0


class Process(Protocol):
    """What the watch uses of a service's process (a Popen)."""

    @property
    def pid(self) -> int: ...

    def poll(self) -> int | None: ...

    def kill(self) -> None: ...


class Watched(Protocol):
    """A service process `lvyue run` started (runtime.ServiceProcess): `process` is swapped
    for a new one when the supervisor starts it again."""

    @property
    def name(self) -> str: ...

    @property
    def url(self) -> str: ...

    @property
    def process(self) -> Process: ...


@dataclass
class LivezProbe:
    """Asks `url`/livez whether it answers 200 within `timeout_s`, over one client for every
    probe: a client made per probe would build a TLS context each time (certificates read and
    parsed), most of an idle `lvyue run`'s CPU. httpx's Client may be shared between threads."""

    client: httpx.Client = field(default_factory=httpx.Client)

    def __call__(self, url: str, timeout_s: float) -> bool:
        try:
            return self.client.get(f"{url}/livez", timeout=timeout_s).status_code == 200
        except httpx.HTTPError:
            return False

    def close(self) -> None:
        self.client.close()


@dataclass
class _State:
    pid: int
    started: float  # when this pid was first seen
    answered: bool = False  # since it started: before that it may still be starting
    missed: int = 0
    probe: Future[bool] | None = None
    due: float = 0.0


@dataclass
class LivenessWatch:
    units: Sequence[Watched]
    policy: LivenessPolicy
    say: Callable[[str], None]
    probe: Callable[[str, float], bool] = field(default_factory=LivezProbe)
    clock: Callable[[], float] = time.monotonic
    pool: Executor | None = None  # runs the probes; default: a thread per process
    _states: dict[int, _State] = field(default_factory=dict)

    def tick(self) -> None:
        """Starts the probes that are due, and kills what missed too many; never blocks."""
        if not self.policy.enabled:
            return
        if self.pool is None:
            self.pool = ThreadPoolExecutor(len(self.units), thread_name_prefix="livez")
        now = self.clock()
        for index, unit in enumerate(self.units):
            state = self._states.get(index)
            process = unit.process
            if state is None or state.pid != process.pid:  # started again: a new process
                state = self._states[index] = _State(process.pid, started=now)
            if process.poll() is not None:  # exited: the supervisor's to restart
                continue
            if state.probe is not None and state.probe.done():
                self._judge(unit, state, state.probe.result(), now)
                state.probe = None
            if state.probe is None and now >= state.due:
                state.probe = self.pool.submit(self.probe, unit.url, self.policy.timeout_s)
                starting = min(_STARTING_INTERVAL_S, self.policy.interval_s)
                state.due = now + (self.policy.interval_s if state.answered else starting)

    def _judge(self, unit: Watched, state: _State, answered: bool, now: float) -> None:
        if answered:
            state.answered, state.missed = True, 0
            return
        if not state.answered and now - state.started < self.policy.start_grace_s:
            return  # still starting
        state.missed += 1
        if state.missed < self.policy.failures:
            return
        self.say(
            f"{unit.name} (pid {state.pid}) did not answer /livez {state.missed} times in a row "
            f"(each within {self.policy.timeout_s:g}s): hung, killing it"
        )
        unit.process.kill()  # SIGKILL; the supervisor sees the exit and starts it again
        state.missed = 0

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
        if isinstance(self.probe, LivezProbe):
            self.probe.close()
