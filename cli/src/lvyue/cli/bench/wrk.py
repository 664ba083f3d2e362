"""The load generator that is not the bottleneck: `wrk` (Debian package) replaying pre-signed
order webhooks through wrk_replay.lua.

Every request is a distinct order with its own delivery id, signed before the phase with a
timestamp half the phase ahead of the signing time, so the signature is inside the receivers'
tolerance (5 minutes either side) from the first request to the last. wrk runs one connection per
thread: the Lua script then knows which request each response answers and writes, per answer,
the send time, the latency and the order id, which the Kafka follower matches events against.
wrk's own CPU (user + system, from wait4) is what the load cost to generate.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from lvyue.cli.bench.load import LoadCounters, LoadPlan, LoadResult, Sent
from lvyue.cli.bench.orders import WEBHOOK_PATH, OrderFactory, signed_webhook
from lvyue.cli.bench.receiver import TOLERANCE_S as RECEIVER_TOLERANCE_S
from lvyue.order_review.platforms.canonical import DEFAULT_TOLERANCE

SCRIPT = Path(__file__).with_name("wrk_replay.lua")
TOLERANCE_S = min(RECEIVER_TOLERANCE_S, DEFAULT_TOLERANCE.total_seconds())
# Webhooks/s pre-signed for an unpaced phase (the minimal receiver passed 1,500); running out
# is reported.
POOL_RATE = 2500
MAX_POOL = 200_000  # about 200 MB of requests, on disk and in wrk
SAFETY_S = 30  # of the signature tolerance, kept for the time between signing and sending
TIME_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def wrk_binary() -> str | None:
    return shutil.which("wrk")


def max_duration_s() -> float:
    """The longest phase one signing timestamp covers: ahead by up to the tolerance at the
    start, behind by up to it at the end."""
    return 2 * (TOLERANCE_S - SAFETY_S)


def signing_timestamp(now: float, duration_s: float) -> int:
    """A timestamp within the tolerance of every moment from `now` to the end of the phase."""
    if duration_s > max_duration_s():
        raise ValueError(
            f"wrk replays webhooks signed in advance: at most {max_duration_s():g} s per phase "
            "(use --generator python for longer ones)"
        )
    return int(now + duration_s / 2)


def pool_size(plan: LoadPlan) -> int:
    """Webhooks to sign: the whole schedule when paced, POOL_RATE for the phase when not;
    a few more per connection, so a paced thread never runs out (its schedule counts both
    ends, wrk's own check of the script spends one, and the deal is uneven by one)."""
    per_s = plan.rate if plan.rate > 0 else POOL_RATE
    wanted = math.ceil(per_s * plan.duration_s) + 4 * plan.concurrency
    return min(plan.max_orders, MAX_POOL, wanted)


def raw_request(host: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {WEBHOOK_PATH} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += [f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(lines).encode() + body


@dataclass(frozen=True)
class Replay:
    """Signed requests written per wrk thread, ready to run."""

    plan: LoadPlan
    directory: Path
    threads: int
    requests: int


def prepare(plan: LoadPlan, factory: OrderFactory, directory: Path) -> Replay:
    """Signs the phase's webhooks and deals them out to the threads' request files."""
    total = pool_size(plan)
    threads = max(1, min(plan.concurrency, total // 2))  # thread 0 skips one: wrk's check
    host = urlsplit(plan.url).netloc
    timestamp = signing_timestamp(time.time(), plan.duration_s)
    files = [(directory / f"requests-{i}").open("wb") for i in range(threads)]
    try:
        for index in range(total):
            body, headers, _ = signed_webhook(factory, plan.secret, timestamp=timestamp)
            request = raw_request(host, body, headers)
            out = files[index % threads]
            out.write(b"%d\n" % len(request))
            out.write(request)
    finally:
        for out in files:
            out.close()
    return Replay(plan, directory, threads, total)


@dataclass
class WrkOutput:
    """What wrk prints at the end (--latency)."""

    requests: int | None = None
    duration_s: float | None = None
    requests_per_s: float | None = None
    latency_ms: dict[str, float] = field(default_factory=dict)  # "p50" ...
    socket_errors: dict[str, int] = field(default_factory=dict)  # connect, read, write, timeout
    non_2xx_3xx: int = 0


def parse_seconds(text: str) -> float:
    """wrk's durations: "635.91us", "1.03ms", "30.01s", "1.00m"."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text.strip())
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match[1]) * TIME_UNITS[match[2]]


def parse_output(text: str) -> WrkOutput:
    out = WrkOutput()
    for row in re.finditer(r"^\s*(\d+(?:\.\d+)?)%\s+(\S+)\s*$", text, re.MULTILINE):
        out.latency_ms[f"p{float(row[1]):g}"] = round(parse_seconds(row[2]) * 1000, 2)
    if match := re.search(r"^\s*(\d+) requests in (\S+),", text, re.MULTILINE):
        out.requests, out.duration_s = int(match[1]), parse_seconds(match[2])
    if match := re.search(r"Socket errors: (.+)$", text, re.MULTILINE):
        out.socket_errors = {
            kind: int(count) for kind, count in re.findall(r"(\w+) (\d+)", match[1])
        }
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", text):
        out.non_2xx_3xx = int(match[1])
    if match := re.search(r"Requests/sec:\s+([\d.]+)", text):
        out.requests_per_s = float(match[1])
    return out


def parse_response(line: str) -> Sent | None:
    """One line of a responses file; None for the "exhausted" marker."""
    parts = line.split()
    if len(parts) != 5:
        return None
    sent_at, latency, slip = (float(part) for part in parts[:3])
    status = int(parts[3])
    order_id = parts[4] if status == 201 and parts[4] != "-" else None
    error = None if order_id is not None else "duplicate" if status == 200 else f"http_{status}"
    return Sent(sent_at, latency, slip, status, order_id, error)


def read_responses(directory: Path, threads: int) -> tuple[list[Sent], int]:
    """Every answer, in send order, and how many threads ran out of requests."""
    sends: list[Sent] = []
    exhausted = 0
    for i in range(threads):
        path = directory / f"responses-{i}"
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            if line == "exhausted":
                exhausted += 1
            elif (sent := parse_response(line)) is not None:
                sends.append(sent)
    sends.sort(key=lambda s: s.sent_at)
    return sends, exhausted


def command(replay: Replay) -> list[str]:
    plan = replay.plan
    binary = wrk_binary()
    if binary is None:
        raise RuntimeError("wrk is not installed (Debian: apt-get install wrk)")
    seconds = max(1, round(plan.duration_s))  # wrk takes whole seconds
    per_thread = plan.rate / replay.threads
    return [
        binary, "-t", str(replay.threads), "-c", str(replay.threads), "-d", f"{seconds}s",
        "--timeout", f"{max(1, round(plan.timeout_s))}s", "--latency", "-s", str(SCRIPT),
        plan.url.rstrip("/") + WEBHOOK_PATH, str(replay.directory), f"{per_thread:g}",
    ]  # fmt: skip


def _run(cmd: list[str]) -> tuple[int, str, float]:
    """(exit code, output, CPU seconds) of a command run to its end."""
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(cmd, stdout=output, stderr=subprocess.STDOUT)
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:
            process.kill()
            process.wait()
            raise
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode(errors="replace")
    return process.returncode, text, usage.ru_utime + usage.ru_stime


def run(replay: Replay, *, counters: LoadCounters | None = None) -> LoadResult:
    """Runs wrk (blocking: call it in a thread) and reads back every answer."""
    launched = time.time()
    code, text, cpu_s = _run(command(replay))
    if code != 0:
        raise RuntimeError(f"wrk exited with {code}:\n{text[-2000:]}")
    wrk = parse_output(text)
    sends, exhausted = read_responses(replay.directory, replay.threads)
    for kind in ("connect", "read", "write"):  # requests that got no answer at all
        failed = wrk.socket_errors.get(kind, 0)
        sends += [Sent(launched, 0.0, 0.0, 0, None, f"socket_{kind}")] * failed
    answered = [s for s in sends if s.status]
    started = min((s.sent_at for s in answered), default=launched)
    finished = max((s.sent_at + s.latency_s for s in answered), default=time.time())
    if counters is not None:
        counters.sent = len(sends)
        counters.ok = sum(1 for s in sends if s.error is None)
        counters.failed = counters.sent - counters.ok
    return LoadResult(
        started_at=started,
        finished_at=finished,
        sends=sends,
        generator="wrk",
        generator_cpu_s=cpu_s,
        generator_stats={
            "threads": replay.threads,
            "connections": replay.threads,
            "signed": replay.requests,
            "threads_out_of_requests": exhausted,
            "wrk_requests": wrk.requests,
            "wrk_duration_s": wrk.duration_s,
            "wrk_requests_per_s": wrk.requests_per_s,
            "wrk_latency_ms": wrk.latency_ms,
            "wrk_socket_errors": wrk.socket_errors,
            "wrk_non_2xx_3xx": wrk.non_2xx_3xx,
        },
    )
