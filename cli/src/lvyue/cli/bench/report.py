"""The bench's arithmetic, free of I/O: percentiles, rates, per-stage latencies, the targets.

Latencies go in as seconds and come out as milliseconds; a missing measurement is None,
never zero, so a report cannot claim a target it did not measure.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

MIB = 1024 * 1024
RSS_LIMIT_MIB = 200.0


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation between ranks; None when empty."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must lie in 0..100, got {q}")
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_summary(seconds: Sequence[float]) -> dict[str, Any]:
    """count, p50, p95, p99, max and mean in milliseconds (None when there is no sample)."""

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 2)

    return {
        "count": len(seconds),
        "p50_ms": ms(percentile(seconds, 50)),
        "p95_ms": ms(percentile(seconds, 95)),
        "p99_ms": ms(percentile(seconds, 99)),
        "max_ms": ms(max(seconds)) if seconds else None,
        "mean_ms": ms(sum(seconds) / len(seconds)) if seconds else None,
    }


def rate(count: int, seconds: float) -> float | None:
    """Events per second; None when no time passed."""
    return round(count / seconds, 2) if seconds > 0 else None


def ratio(value: float | None, ceiling: float | None) -> float | None:
    """value / ceiling, None when either is missing or the ceiling is zero."""
    if value is None or not ceiling:
        return None
    return round(value / ceiling, 3)


def cpu_ms_per_order(cpu_s: float, idle_cores: float, seconds: float, orders: int) -> float | None:
    """Milliseconds of CPU each order cost a process group, its idle cost (polling loops,
    health checks: `idle_cores` CPU-seconds per second) taken out. None without orders."""
    if orders <= 0:
        return None
    return round(max(0.0, cpu_s - idle_cores * seconds) * 1000 / orders, 2)


def total_cpu_ms_per_order(per_group: Mapping[str, float | None]) -> float | None:
    """What an order cost summed over process groups; None when a group was not measured."""
    values = list(per_group.values())
    if not values or any(v is None for v in values):
        return None
    return round(sum(v for v in values if v is not None), 2)


def per_order_deltas(
    before: Mapping[str, Mapping[str, int]],
    after: Mapping[str, Mapping[str, int]],
    orders: int,
    *,
    idle_per_s: Mapping[str, Mapping[str, float]] | None = None,
    seconds: float = 0.0,
) -> dict[str, dict[str, float]]:
    """How much each counter grew per order, per database (counters absent before were 0),
    less what the database does at idle (`idle_per_s` over `seconds`: polling loops)."""
    if orders <= 0:
        return {}
    idle = idle_per_s or {}

    def grown(database: str, counter: str, value: int) -> float:
        base = before.get(database, {}).get(counter, 0)
        return max(0.0, value - base - idle.get(database, {}).get(counter, 0.0) * seconds)

    return {
        database: {
            counter: round(grown(database, counter, value) / orders, 1)
            for counter, value in counters.items()
        }
        for database, counters in after.items()
    }


def stage_name(earlier: str, later: str) -> str:
    """ "order.created" and "inventory.reserved" give "created→reserved"."""
    return f"{earlier.rsplit('.', 1)[-1]}→{later.rsplit('.', 1)[-1]}"


def stage_latencies(
    sent_at: Mapping[str, float],
    seen: Mapping[str, Mapping[str, float]],
    chain: Sequence[str],
) -> dict[str, list[float]]:
    """Seconds between consecutive topics of `chain` per order, and from send to the last topic.

    `sent_at` maps order id to the local send time; `seen[topic][order id]` is the Kafka
    timestamp of that order's event (both epoch seconds). Orders missing a topic are left out
    of the stages that need it.
    """
    stages: dict[str, list[float]] = {stage_name(a, b): [] for a, b in itertools.pairwise(chain)}
    end_to_end: list[float] = []
    for order_id, sent in sent_at.items():
        for earlier, later in itertools.pairwise(chain):
            start, end = seen.get(earlier, {}).get(order_id), seen.get(later, {}).get(order_id)
            if start is not None and end is not None:
                stages[stage_name(earlier, later)].append(max(0.0, end - start))
        final = seen.get(chain[-1], {}).get(order_id) if chain else None
        if final is not None:
            end_to_end.append(max(0.0, final - sent))
    stages["end_to_end"] = end_to_end
    return stages


def completion_rate(sent_at: Mapping[str, float], done_at: Mapping[str, float]) -> float | None:
    """Orders per second coming out of the last stage, measured at that end: (n - 1) over the
    time from the first to the last arrival. A pipeline slower than intake stretches that time;
    one that keeps up shows the intake rate. None below two arrivals."""
    arrivals = [done_at[order] for order in sent_at if order in done_at]
    if len(arrivals) < 2:
        return None
    return rate(len(arrivals) - 1, max(arrivals) - min(arrivals))


SATURATED = 0.95  # a paced phase below this share of its pace was limited by the system


def is_capacity(achieved: float | None, pace: float | str | None) -> bool:
    """Whether a throughput is the system's capacity: unpaced ("max" or 0), or paced but the
    system fell short of the pace. A phase that kept its pace only shows a lower bound."""
    if achieved is None:
        return False
    if not isinstance(pace, int | float) or pace <= 0:
        return True
    return achieved < SATURATED * pace


def throughput_for_target(
    achieved: float | None, pace: float | str | None, threshold: float
) -> float | None:
    """A throughput a target can be judged on: a capacity, or a lower bound that already meets
    the threshold; None when pacing hid whether the system could reach it."""
    if achieved is None:
        return None
    if is_capacity(achieved, pace) or achieved >= threshold:
        return achieved
    return None


@dataclass(frozen=True)
class Target:
    key: str
    description: str
    threshold: float
    unit: str
    higher_is_better: bool


@dataclass(frozen=True)
class Verdict:
    key: str
    description: str
    threshold: float
    unit: str
    higher_is_better: bool
    value: float | None
    met: bool | None  # None: not measured
    miss_by: float | None  # how far from the threshold, in `unit`, when missed
    miss_by_pct: float | None  # that distance as a share of the threshold, in percent
    note: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


INTAKE_ALONE = "intake alone"  # the phase that loads intake with the pipeline paused
E2E_ORDERS_PER_S = 250.0  # sustained, webhook to shipment.requested
LATENCY_SHARE = 0.6  # the end-to-end p99 is judged offered this share of that throughput
LATENCY_RATE = E2E_ORDERS_PER_S * LATENCY_SHARE
CPU_MS_PER_ORDER = 8.0  # summed over every service, PostgreSQL and the broker
GENERATOR_CPU_MS_PER_REQUEST = 0.2  # above it the load generator competes for the cores
CONSOLE_P95_MS = 200.0  # every console page, with 10,000 open orders in the queue

TARGETS: tuple[Target, ...] = (
    Target("cpu_ms_per_order_total", "CPU per order, all processes", CPU_MS_PER_ORDER, "ms",
           False),
    Target("intake_vs_minimal_receiver", "intake alone (pipeline paused) / minimal receiver",
           0.75, "×", True),
    Target("e2e_orders_per_s", "end-to-end throughput, sustained", E2E_ORDERS_PER_S,
           "orders/s", True),
    Target("e2e_p99_ms_at_latency_rate",
           f"end-to-end p99 offered {LATENCY_RATE:g} orders/s ({LATENCY_SHARE:.0%} of "
           f"{E2E_ORDERS_PER_S:g})", 2000, "ms", False),
    Target("generator_cpu_ms_per_request", "load generator CPU per request",
           GENERATOR_CPU_MS_PER_REQUEST, "ms", False),
    Target("deadline_lag_p99_ms", "deadline firing lag p99", 1000, "ms", False),
    Target("deadline_double_fires", "deadlines breached twice", 0, "", False),
    Target("pipeline_events_staged_twice", "orders with a pipeline event staged twice", 0, "",
           False),
    Target("console_p95_ms", "console pages p95 (the slowest page), abnormal queue full",
           CONSOLE_P95_MS, "ms", False),
)  # fmt: skip


TARGET = {t.key: t for t in TARGETS}


def rss_target(service: str) -> Target:
    return Target(f"rss_mib:{service}", f"{service} peak RSS", RSS_LIMIT_MIB, "MiB", False)


def evaluate(target: Target, value: float | None, *, note: str = "") -> Verdict:
    """Whether `value` meets the target and, if not, by how much it misses."""
    fields = asdict(target)
    if value is None:
        return Verdict(
            **fields,
            value=None,
            met=None,
            miss_by=None,
            miss_by_pct=None,
            note=note or "not measured",
        )
    met = value >= target.threshold if target.higher_is_better else value <= target.threshold
    miss = None if met else round(abs(value - target.threshold), 3)
    pct = round(100 * miss / target.threshold, 1) if miss is not None and target.threshold else None
    return Verdict(**fields, value=value, met=met, miss_by=miss, miss_by_pct=pct, note=note)


def evaluate_all(
    measured: Mapping[str, float | None],
    *,
    services: Sequence[str] = (),
    notes: Mapping[str, str] | None = None,
) -> list[Verdict]:
    """Every target against `measured` (keyed by target key); per-service RSS targets too."""
    notes = notes or {}
    targets = [*TARGETS, *(rss_target(s) for s in services)]
    return [
        evaluate(t, value, note="" if value is not None else notes.get(t.key, ""))
        for t in targets
        for value in (measured.get(t.key),)
    ]


def describe(verdict: Verdict) -> str:
    """One line: "met", "missed by 300 webhooks/s (20.0%)" or why it was not measured."""
    if verdict.met is None:
        return verdict.note or "not measured"
    if verdict.met:
        return "met"
    pct = f" ({verdict.miss_by_pct:.1f}%)" if verdict.miss_by_pct is not None else ""
    unit = f" {verdict.unit}" if verdict.unit else ""
    return f"missed by {format_number(verdict.miss_by)}{unit}{pct}"


def format_number(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.1f}"
    return f"{value:.3g}"


def count_errors(kinds: Sequence[str | None]) -> dict[str, int]:
    """Error kinds counted, most frequent first; None means success."""
    counts: dict[str, int] = {}
    for kind in kinds:
        if kind is not None:
            counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def merge_counts(*parts: Mapping[str, int]) -> dict[str, int]:
    total: dict[str, int] = {}
    for part in parts:
        for kind, count in part.items():
            total[kind] = total.get(kind, 0) + count
    return dict(sorted(total.items(), key=lambda item: (-item[1], item[0])))
