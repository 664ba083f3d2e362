"""The supervisor's restart rules, on plain units and a clock the test moves."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from lvyue.cli.supervisor import CrashLoopError, RestartPolicy, Supervisor


@dataclass
class Unit:
    name: str
    needs_database: bool = True
    slow_restart: bool = False
    pid: int | None = 100
    status: str | None = None  # None: running
    restart_error: str | None = None
    restarted_at: list[float] = field(default_factory=list)
    clock: list[float] = field(default_factory=lambda: [0.0])

    def exit_status(self) -> str | None:
        return self.status

    def restart(self) -> None:
        if self.restart_error is not None:
            raise RuntimeError(self.restart_error)
        self.restarted_at.append(self.clock[0])
        self.status = None
        self.pid = (self.pid or 0) + 1


POLICY = RestartPolicy(backoff_s=1.0, backoff_max_s=4.0, crash_limit=3, crash_window_s=60.0)


def _supervisor(*units: Unit, clock: list[float]) -> tuple[Supervisor, list[str]]:
    lines: list[str] = []
    return Supervisor(units, POLICY, say=lines.append, clock=lambda: clock[0]), lines


def test_backoff_doubles_per_crash_up_to_its_maximum() -> None:
    assert [POLICY.backoff(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 4.0]


def test_a_dead_unit_is_restarted_alone_after_its_backoff_with_one_line() -> None:
    clock = [0.0]
    dead, alive = Unit("inventory", status="killed by SIGKILL", clock=clock), Unit("fulfilment")
    supervisor, lines = _supervisor(dead, alive, clock=clock)
    supervisor.tick()
    assert dead.restarted_at == []
    assert lines == [
        "inventory (pid 100) died: killed by SIGKILL; restart #1 in 1.00s"
        " (1 of 3 crashes allowed within 60s)"
    ]
    clock[0] = 1.0
    supervisor.tick()
    assert (dead.restarted_at, dead.pid, alive.restarted_at, alive.pid) == ([1.0], 101, [], 100)


def test_crashes_beyond_the_limit_within_the_window_give_up() -> None:
    clock = [0.0]
    unit = Unit("inventory", clock=clock)
    supervisor, lines = _supervisor(unit, clock=clock)
    for at in (0.0, 10.0):
        clock[0], unit.status = at, "exit code 3"
        supervisor.tick()
        clock[0] += 5.0
        supervisor.tick()
    clock[0], unit.status = 20.0, "exit code 3"
    with pytest.raises(CrashLoopError, match=r"3 crashes within 60s .*giving up"):
        supervisor.tick()
    assert len(lines) == 2


def test_crashes_older_than_the_window_are_forgotten() -> None:
    clock = [0.0]
    unit = Unit("inventory", clock=clock)
    supervisor, lines = _supervisor(unit, clock=clock)
    for at in (0.0, 40.0, 80.0, 120.0):  # never three within 60 s
        clock[0], unit.status = at, "exit code 1"
        supervisor.tick()
        clock[0] += 5.0
        supervisor.tick()
    assert len(unit.restarted_at) == 4
    assert lines[-1].endswith("restart #4 in 2.00s (2 of 3 crashes allowed within 60s)")


def test_a_failed_restart_counts_as_a_crash_and_is_tried_again_later() -> None:
    clock = [0.0]
    unit = Unit("inventory", status="exit code 3", restart_error="port 8102 in use", clock=clock)
    supervisor, lines = _supervisor(unit, clock=clock)
    supervisor.tick()
    clock[0] = 1.0
    supervisor.tick()
    assert lines[-1].startswith("inventory failed to restart: port 8102 in use; restart #2 in 2")
    unit.restart_error = None
    clock[0] = 3.0
    supervisor.tick()
    assert unit.restarted_at == [3.0]


def test_what_needs_the_database_waits_until_postgresql_is_back() -> None:
    clock = [0.0]
    postgres = Unit("PostgreSQL", needs_database=False, status="gone", clock=clock)
    postgres.restart_error = "still recovering"
    service = Unit("inventory", status="exit code 1", clock=clock)
    supervisor, _ = _supervisor(service, postgres, clock=clock)
    supervisor.tick()
    clock[0] = 1.0
    supervisor.tick()  # PostgreSQL's restart fails: the service is not started against it
    assert service.restarted_at == []
    postgres.restart_error = None
    clock[0] = 3.0
    supervisor.tick()
    assert (postgres.restarted_at, service.restarted_at) == ([3.0], [3.0])
