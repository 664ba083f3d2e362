"""The liveness watch of `lvyue run`, with plain objects: a probe that answers or not, a clock
moved by hand, and the probes run at once instead of in threads."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any, TypeVar

from lvyue.cli.liveness import LivenessPolicy, LivenessWatch, LivezProbe

POLICY = LivenessPolicy(interval_s=5.0, timeout_s=1.0, failures=3)
T = TypeVar("T")


class Inline(Executor):
    """Runs what is submitted at once: its future is done when submit returns."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


@dataclass
class Process:
    """What the watch uses of a Popen."""

    pid: int = 100
    alive: bool = True
    killed: int = 0

    def poll(self) -> int | None:
        return None if self.alive else -9

    def kill(self) -> None:
        self.killed += 1
        self.alive = False


@dataclass
class Unit:
    name: str = "inventory"
    port: int = 1
    host: str = "127.0.0.1"
    ready: bool = True
    process: Process = field(default_factory=Process)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def killed(self) -> int:
        return self.process.killed


@dataclass
class World:
    answers: dict[str, bool] = field(default_factory=dict)
    now: float = 0.0
    said: list[str] = field(default_factory=list)
    probes: int = 0

    def probe(self, url: str, timeout_s: float) -> bool:
        assert timeout_s == POLICY.timeout_s
        self.probes += 1
        return self.answers.get(url, True)


def _watch(world: World, *units: Unit, policy: LivenessPolicy = POLICY) -> LivenessWatch:
    return LivenessWatch(
        units,
        policy,
        say=world.said.append,
        probe=world.probe,
        clock=lambda: world.now,
        pool=Inline(),
    )


def _rounds(watch: LivenessWatch, world: World, count: int) -> None:
    """`count` probe intervals: each tick starts a due probe, the next one judges it."""
    for _ in range(count):
        watch.tick()  # starts the due probe (done at once here)
        watch.tick()  # judges it
        world.now += POLICY.interval_s


def test_a_process_that_stops_answering_is_killed_after_the_third_miss() -> None:
    world, hung, fine = World(), Unit(), Unit("fulfilment", 2, process=Process(pid=200))
    watch = _watch(world, hung, fine)
    _rounds(watch, world, 2)  # both answered: live
    world.answers[hung.url] = False
    _rounds(watch, world, 2)
    assert hung.killed == 0  # two misses: could be a slow moment
    _rounds(watch, world, 1)
    assert (hung.killed, fine.killed) == (1, 0)
    assert world.said == [
        "inventory (pid 100) did not answer /livez 3 times in a row (each within 1s): hung, "
        "killing it"
    ]
    watch.close()


def test_one_answer_between_misses_starts_the_count_again() -> None:
    world, unit = World(), Unit()
    watch = _watch(world, unit)
    _rounds(watch, world, 1)
    for answered in (False, False, True, False, False, True, False, False):
        world.answers[unit.url] = answered
        _rounds(watch, world, 1)
    assert unit.killed == 0
    watch.close()


def test_a_process_still_starting_is_judged_only_after_its_grace() -> None:
    world, unit = World(), Unit()
    world.answers[unit.url] = False
    watch = _watch(world, unit)
    _rounds(watch, world, 6)  # 30 s, never answered: within the 60 s a start may take
    assert unit.killed == 0
    _rounds(watch, world, 9)  # past the grace: three misses in a row
    assert unit.killed == 1
    watch.close()


def test_a_restarted_process_starts_afresh() -> None:
    world, unit = World(), Unit()
    watch = _watch(world, unit)
    _rounds(watch, world, 1)
    world.answers[unit.url] = False
    _rounds(watch, world, 3)
    assert unit.killed == 1
    unit.process = Process(pid=101, killed=1)  # the supervisor started it again
    _rounds(watch, world, 5)  # the new process has not answered yet: within its grace
    assert unit.killed == 1
    world.answers[unit.url] = True
    _rounds(watch, world, 1)
    world.answers[unit.url] = False
    _rounds(watch, world, 3)
    assert unit.killed == 2
    watch.close()


def test_a_new_process_is_probed_every_second_until_it_first_answers() -> None:
    world, unit = World(), Unit()
    world.answers[unit.url] = False
    watch = _watch(world, unit)
    for _ in range(50):  # 5 s in ticks of 0.1 s
        watch.tick()
        world.now += 0.1
    assert world.probes == 5
    world.answers[unit.url] = True
    for _ in range(100):  # 10 s: answered, then every interval
        watch.tick()
        world.now += 0.1
    assert world.probes == 8  # at 5 s (still starting: the next at 6 s), then 6 and 11 s
    watch.close()


def test_a_dead_process_is_not_probed_and_zero_failures_turns_the_watch_off() -> None:
    world, dead = World(), Unit(process=Process(alive=False))
    watch = _watch(world, dead)
    _rounds(watch, world, 3)
    assert world.probes == 0
    off = _watch(world, Unit(), policy=LivenessPolicy(failures=0))
    _rounds(off, world, 3)
    assert world.probes == 0
    watch.close()
    off.close()


class _Livez(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/livez" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


def test_the_livez_probe_asks_every_process_over_one_client() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Livez)
    Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    probe = LivezProbe()
    client = probe.client
    try:
        assert probe(url, 2.0)
        _Livez.status = 503
        assert not probe(url, 2.0)
        server.shutdown()
        server.server_close()
        assert not probe(url, 2.0)  # nothing listens: no answer, no exception
        assert probe.client is client
    finally:
        _Livez.status = 200
        probe.close()
