"""From raw measurements to the report's sections, and the report's numbers to the targets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lvyue.cli.bench.ceiling import RawWrites
from lvyue.cli.bench.load import LoadResult
from lvyue.cli.bench.report import (
    INTAKE_ALONE,
    LATENCY_RATE,
    TARGET,
    completion_rate,
    count_errors,
    evaluate_all,
    format_number,
    is_capacity,
    latency_summary,
    merge_counts,
    rate,
    ratio,
    stage_latencies,
    throughput_for_target,
)
from lvyue.cli.bench.sampling import PhaseSample


def load_summary(load: LoadResult, *, target_rate: float, concurrency: int) -> dict[str, Any]:
    accepted = load.accepted
    return {
        "target_rate": target_rate or "max",
        "concurrency": concurrency,
        "sent": len(load.sends),
        "accepted": len(accepted),
        "duration_s": round(load.duration_s, 3),
        "webhooks_per_s": rate(len(accepted), load.duration_s),
        "latency": latency_summary([s.latency_s for s in accepted]),
        "send_slip": latency_summary([s.slip_s for s in load.sends]),
        "errors": count_errors([s.error for s in load.sends]),
        "generator": generator_summary(load),
    }


def generator_summary(load: LoadResult) -> dict[str, Any]:
    """Which generator made the load and what it cost: it shares the cores with the system."""
    cpu, requests = load.generator_cpu_s, len(load.sends)
    return {
        "kind": load.generator,
        "cpu_s": None if cpu is None else round(cpu, 3),
        "cpu_ms_per_request": None
        if cpu is None or not requests
        else round(cpu * 1000 / requests, 3),
        **load.generator_stats,
    }


def phase_summary(
    load: LoadResult,
    *,
    target_rate: float,
    concurrency: int,
    chain: Sequence[str],
    seen: Mapping[str, Mapping[str, float]],
    outcomes: Mapping[str, str | None],
    redelivered: int,
    sample: PhaseSample,
    idle: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """One lvyue load phase: intake, end to end, stages, errors, resources."""
    intake = load_summary(load, target_rate=target_rate, concurrency=concurrency)
    sent_at = {s.order_id: s.sent_at for s in load.accepted if s.order_id is not None}
    stages = stage_latencies(sent_at, seen, chain)
    done = {o: seen[chain[-1]][o] for o in sent_at if o in seen.get(chain[-1], {})}
    pipeline_errors = count_errors(
        ["not_completed" if kind is None else kind for kind in outcomes.values() if kind != "done"]
    )
    return {
        "intake": intake,
        "final_topic": chain[-1],
        "completed": len(done),
        "e2e_orders_per_s": completion_rate(sent_at, done),
        "latency": {
            "http_intake": intake["latency"],
            **{name: latency_summary(values) for name, values in stages.items()},
        },
        "errors": merge_counts(intake["errors"], pipeline_errors),
        "redelivered_events": redelivered,
        "resources": sample.to_dict(orders=len(done), idle=dict(idle or {})),
    }


def raw_writes_summary(raw: RawWrites, *, concurrency: int, pool: int) -> dict[str, Any]:
    return {
        "concurrency": concurrency,
        "pool_size": pool,
        "writes": len(raw.latencies_s),
        "duration_s": round(raw.duration_s, 3),
        "writes_per_s": rate(len(raw.latencies_s), raw.duration_s),
        "latency": latency_summary(raw.latencies_s),
        "errors": count_errors(list(raw.errors)),
    }


def _get(tree: Mapping[str, Any] | None, *path: str) -> Any:
    node: Any = tree
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def ratios(report: Mapping[str, Any]) -> dict[str, float | None]:
    """lvyue over its ceiling, where both were measured."""
    lvyue = _get(report, "phases", "throughput")
    ceiling = report.get("ceiling")
    intake = _get(lvyue, "intake", "webhooks_per_s")
    alone = _get(report, "phases", INTAKE_ALONE, "intake", "webhooks_per_s")
    return {
        # The target: intake with the cores to itself, as the minimal receiver has them.
        "intake_alone_vs_minimal_receiver": ratio(
            alone, _get(ceiling, "minimal_receiver", "webhooks_per_s")
        ),
        # Under the whole pipeline's load, intake goes only as fast as the pipeline.
        "intake_vs_minimal_receiver": ratio(
            intake, _get(ceiling, "minimal_receiver", "webhooks_per_s")
        ),
        "intake_vs_raw_writes": ratio(intake, _get(ceiling, "raw_writes", "writes_per_s")),
        "receiver_vs_raw_writes": ratio(
            _get(ceiling, "minimal_receiver", "webhooks_per_s"),
            _get(ceiling, "raw_writes", "writes_per_s"),
        ),
        "p99_vs_minimal_receiver": ratio(
            _get(lvyue, "intake", "latency", "p99_ms"),
            _get(ceiling, "minimal_receiver", "latency", "p99_ms"),
        ),
    }


def per_core(report: Mapping[str, Any]) -> dict[str, float | None] | None:
    """Throughput per core the replicas were allotted (--cores-per-replica): what one more
    replica with cores of its own adds. Equal per core for 1 and N replicas = no loss."""
    allotted = _get(report, "cpu_limits", "allotted_cores")
    if not allotted:
        return None
    e2e = _get(report, "phases", "throughput", "e2e_orders_per_s")
    intake = _get(report, "phases", "throughput", "intake", "webhooks_per_s")
    return {
        "allotted_cores": allotted,
        "e2e_orders_per_s_per_core": ratio(e2e, allotted),
        "intake_webhooks_per_s_per_core": ratio(intake, allotted),
    }


def verdicts(report: Mapping[str, Any], *, latency_rate: float) -> list[dict[str, Any]]:
    """Every target against what this run measured; what it did not measure says why."""
    lvyue = _get(report, "phases", "throughput")
    at_rate = _get(report, "phases", "latency")
    resources = _get(lvyue, "resources", "processes") or {}
    services = [name for name in report.get("services", []) if name in resources]
    pace = _get(lvyue, "intake", "target_rate")
    minimal = _get(report, "ceiling", "minimal_receiver")
    # intake alone always runs flat out; the receiver must too for the ratio to mean capacity
    both_at_capacity = is_capacity(_get(minimal, "webhooks_per_s"), _get(minimal, "target_rate"))
    # Judged where the generator ran flat out: there, one short of CPU caps what is measured.
    generator_costs = [
        _get(section, "generator", "cpu_ms_per_request")
        for section in (_get(lvyue, "intake"), minimal)
        if is_capacity(_get(section, "webhooks_per_s"), _get(section, "target_rate"))
    ]
    measured: dict[str, float | None] = {
        "cpu_ms_per_order_total": _get(lvyue, "resources", "total", "cpu_ms_per_order"),
        "intake_vs_minimal_receiver": _get(report, "ratios", "intake_alone_vs_minimal_receiver")
        if both_at_capacity
        else None,
        "e2e_orders_per_s": throughput_for_target(
            _get(lvyue, "e2e_orders_per_s"), pace, TARGET["e2e_orders_per_s"].threshold
        ),
        "e2e_p99_ms_at_latency_rate": _get(at_rate, "latency", "end_to_end", "p99_ms")
        if latency_rate == LATENCY_RATE
        else None,
        "generator_cpu_ms_per_request": max(
            (cost for cost in generator_costs if cost is not None), default=None
        ),
        "deadline_lag_p99_ms": _get(report, "scanner", "firing", "lag", "p99_ms"),
        "deadline_double_fires": _get(report, "scanner", "firing", "double_fires"),
        "console_p95_ms": _get(report, "console", "slowest_p95_ms"),
        "pipeline_events_staged_twice": sum(twice.values())
        if isinstance(twice := report.get("staged_twice"), Mapping)
        else None,
    }
    for name in services:
        phases = [p for p in (_get(report, "phases") or {}).values() if isinstance(p, Mapping)]
        peaks = [_get(p, "resources", "processes", name, "peak_rss_mib") for p in phases]
        measured[f"rss_mib:{name}"] = max((v for v in peaks if v is not None), default=None)
    paced = f"paced at {pace}/s, which it kept: capacity unknown (use --rate 0)"
    notes = {
        "cpu_ms_per_order_total": "no order completed in the throughput phase",
        "generator_cpu_ms_per_request": "judged at capacity only (--rate 0)",
        "e2e_orders_per_s": paced,
        "intake_vs_minimal_receiver": "needs the minimal receiver at capacity (--rate 0)"
        if minimal
        else "ceiling skipped (--skip-ceiling)",
        "e2e_p99_ms_at_latency_rate": f"needs a phase at {LATENCY_RATE:g} orders/s "
        f"(--latency-rate {LATENCY_RATE:g})",
        "deadline_lag_p99_ms": "scanner bench skipped (--skip-scanner)",
        "deadline_double_fires": "scanner bench skipped (--skip-scanner)",
        "pipeline_events_staged_twice": "not counted in this report",
        "console_p95_ms": "console bench skipped (--skip-console)",
    }
    return [v.to_dict() for v in evaluate_all(measured, services=services, notes=notes)]


def load_notes(report: Mapping[str, Any]) -> list[str]:
    """What to know about the load of this run: its generators, paces it could not keep."""
    runs = {name: _get(phase, "intake") for name, phase in (report.get("phases") or {}).items()}
    runs["minimal receiver"] = _get(report, "ceiling", "minimal_receiver")
    notes: list[str] = []
    for name, run in runs.items():
        pace, achieved = _get(run, "target_rate"), _get(run, "webhooks_per_s")
        if isinstance(pace, int | float) and pace > 0 and is_capacity(achieved, pace):
            notes.append(
                f"{name}: paced at {pace:g}/s but sent {achieved:g}/s: all "
                f"{_get(run, 'concurrency')} connections were waiting for answers (send slip "
                f"p99 {format_number(_get(run, 'send_slip', 'p99_ms'))} ms), so less than the "
                "pace was offered"
            )
        generator = _get(run, "generator") or {}
        if generator.get("kind") == "python":
            notes.append(
                f"{name}: the Python load generator (about 2 ms of CPU per request) shares the "
                "cores with the system under test; install wrk for a cheaper one"
            )
        if ran_out := generator.get("threads_out_of_requests"):
            notes.append(
                f"{name}: {ran_out} of wrk's {generator.get('threads')} connections used up "
                f"their share of the {generator.get('signed')} pre-signed webhooks before the "
                "end: the intake rate is a lower bound"
            )
    return notes
