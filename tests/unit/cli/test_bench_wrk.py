"""wrk as the load generator: pre-signed distinct webhooks, its output read back, and (when
wrk is installed) a real replay against a local receiver that checks every signature."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from lvyue.cli.bench import wrk
from lvyue.cli.bench.config import BenchConfig
from lvyue.cli.bench.load import LoadCounters, LoadPlan
from lvyue.cli.bench.orders import OrderFactory, catalogue
from lvyue.order_review.platforms.canonical import CanonicalAdapter

SECRET = "s3cret"

WRK_OUTPUT = """Running 30s test @ http://127.0.0.1:8101/webhooks/lvyue/orders
  32 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    95.20ms   40.10ms 800.00ms   70.00%
    Req/Sec    10.00      3.00    20.00     80.00%
  Latency Distribution
     50%  635.91us
     75%   12.00ms
     90%    1.20s
     99%    1.00m
  9000 requests in 30.01s, 2.10MB read
  Socket errors: connect 0, read 2, write 0, timeout 5
  Non-2xx or 3xx responses: 7
Requests/sec:    299.90
Transfer/sec:     71.66KB
"""


def plan(url: str = "http://127.0.0.1:8101", **given: float) -> LoadPlan:
    values: dict[str, float] = {"concurrency": 4, "rate": 0, "duration_s": 2, "max_orders": 100}
    values |= given
    return LoadPlan(
        url=url, secret=SECRET, concurrency=int(values["concurrency"]), rate=values["rate"],
        duration_s=values["duration_s"], max_orders=int(values["max_orders"]),
    )  # fmt: skip


def test_wrk_s_summary_is_read_with_its_units() -> None:
    out = wrk.parse_output(WRK_OUTPUT)
    assert out.requests == 9000
    assert out.duration_s == pytest.approx(30.01)
    assert out.requests_per_s == 299.9
    assert out.latency_ms == {"p50": 0.64, "p75": 12.0, "p90": 1200.0, "p99": 60000.0}
    assert out.socket_errors == {"connect": 0, "read": 2, "write": 0, "timeout": 5}
    assert out.non_2xx_3xx == 7
    with pytest.raises(ValueError, match="wrk duration"):
        wrk.parse_seconds("12 parsecs")


def test_each_answer_gives_send_time_latency_and_order() -> None:
    order_id = str(uuid.uuid4())
    sent = wrk.parse_response(f"1700000000.250000 0.012000 0.003000 201 {order_id}")
    assert sent is not None
    assert (sent.sent_at, sent.latency_s, sent.slip_s) == (1700000000.25, 0.012, 0.003)
    assert (sent.order_id, sent.error) == (order_id, None)
    duplicate = wrk.parse_response(f"1.0 0.1 0.0 200 {order_id}")
    assert duplicate is not None
    assert (duplicate.order_id, duplicate.error) == (None, "duplicate")
    refused = wrk.parse_response("1.0 0.1 0.0 401 -")
    assert refused is not None
    assert refused.error == "http_401"
    assert wrk.parse_response("exhausted") is None


def test_the_signing_timestamp_holds_from_the_first_request_to_the_last() -> None:
    now, duration = 1_700_000_000.0, 300.0
    timestamp = wrk.signing_timestamp(now, duration)
    assert abs(timestamp - now) <= wrk.TOLERANCE_S - wrk.SAFETY_S
    assert abs(timestamp - (now + duration)) <= wrk.TOLERANCE_S - wrk.SAFETY_S
    with pytest.raises(ValueError, match="--generator python"):
        wrk.signing_timestamp(now, wrk.max_duration_s() + 1)


def test_a_paced_phase_signs_its_whole_schedule_an_unpaced_one_a_generous_pool() -> None:
    assert wrk.pool_size(plan(rate=150, duration_s=30, max_orders=10**6)) == 4500 + 16
    assert wrk.pool_size(plan(duration_s=30, max_orders=10**6)) == wrk.POOL_RATE * 30 + 16
    assert wrk.pool_size(plan(duration_s=30, max_orders=500)) == 500


def test_prepared_requests_are_distinct_signed_orders(tmp_path: Path) -> None:
    replay = wrk.prepare(plan(max_orders=10), OrderFactory(catalogue(5)), tmp_path)
    assert (replay.threads, replay.requests) == (4, 10)
    requests = [r for i in range(replay.threads) for r in read_records(tmp_path, i)]
    assert len(requests) == 10
    deliveries, orders = set(), set()
    for raw in requests:
        head, body = raw.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        assert lines[0] == "POST /webhooks/lvyue/orders HTTP/1.1"
        headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines[1:])}
        assert headers["host"] == "127.0.0.1:8101"
        assert int(headers["content-length"]) == len(body)
        CanonicalAdapter().verify(headers, body, lambda p, s: SECRET, now=datetime.now(UTC))
        deliveries.add(headers["x-lvyue-delivery"])
        orders.add(json.loads(body)["platform_order_id"])
    assert len(deliveries) == len(orders) == 10


def read_records(directory: Path, thread: int) -> Iterator[bytes]:
    data = (directory / f"requests-{thread}").read_bytes()
    while data:
        length, data = data.split(b"\n", 1)
        yield data[: int(length)]
        data = data[int(length) :]


class Receiver(BaseHTTPRequestHandler):
    """Answers like order-review: 201 and a new order id when the signature holds."""

    protocol_version = "HTTP/1.1"
    seen: list[str]
    lock = threading.Lock()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            CanonicalAdapter().verify(headers, body, lambda p, s: SECRET, now=datetime.now(UTC))
        except Exception:
            status, answer = 401, b'{"detail":"unauthorized"}'
        else:
            order_id = str(uuid.uuid4())
            with self.lock:
                self.seen.append(order_id)
            status, answer = 201, json.dumps({"order_id": order_id, "duplicate": False}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Handler", (Receiver,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def wrk_installed() -> None:
    # make test installs it (Makefile DEBIAN_TOOLS): missing means the setup is broken
    assert wrk.wrk_binary() is not None, "wrk not found: apt-get install wrk"


@pytest.mark.usefixtures("wrk_installed")
def test_wrk_replays_every_webhook_once_and_reports_each_order(
    tmp_path: Path, receiver: tuple[str, list[str]]
) -> None:
    url, seen = receiver
    replay = wrk.prepare(plan(url, max_orders=40), OrderFactory(catalogue(5)), tmp_path)
    counters = LoadCounters()
    result = wrk.run(replay, counters=counters)
    accepted = [s.order_id for s in result.accepted]
    # thread 0 spends one request on wrk's own check of the script, never sent
    assert len(accepted) == len(set(accepted)) == len(seen) == replay.requests - 1
    assert set(accepted) == set(seen)
    assert result.generator_stats["threads_out_of_requests"] == replay.threads
    assert result.generator == "wrk"
    assert result.generator_cpu_s is not None
    assert counters.ok == len(accepted)
    assert all(s.latency_s > 0 and s.sent_at <= result.finished_at for s in result.sends)


@pytest.mark.usefixtures("wrk_installed")
def test_paced_wrk_keeps_to_its_rate(tmp_path: Path, receiver: tuple[str, list[str]]) -> None:
    url, seen = receiver
    replay = wrk.prepare(plan(url, rate=20, duration_s=2), OrderFactory(catalogue(5)), tmp_path)
    result = wrk.run(replay)
    assert 30 <= len(result.accepted) <= len(seen) < replay.requests
    # wrk stops on the clock: a request in flight then (one per connection at most) reached
    # the receiver but its answer was never read
    assert len(seen) - len(result.accepted) <= replay.threads
    assert result.generator_stats["threads_out_of_requests"] == 0


@pytest.mark.usefixtures("wrk_installed")
def test_a_phase_longer_than_one_signature_holds_needs_the_python_generator() -> None:
    with pytest.raises(ValueError, match="--generator python"):
        BenchConfig(generator="wrk", duration_s=wrk.max_duration_s() + 1)
