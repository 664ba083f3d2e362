"""From measurements to the report: CPU per order in total, the load generator's cost, Kafka
messages per order, and the targets judged on the right phase."""

from __future__ import annotations

from typing import Any

import pytest

from lvyue.cli.bench import servicestats, summary
from lvyue.cli.bench.config import BenchConfig, default_generator
from lvyue.cli.bench.load import LoadResult, Sent
from lvyue.cli.bench.report import LATENCY_RATE
from lvyue.cli.bench.sampling import GroupUsage, PhaseSample


def test_the_total_cpu_per_order_leaves_the_bench_and_lvyue_run_out() -> None:
    sample = PhaseSample(
        processes={
            "order-review": GroupUsage(cpu_s=3.0),
            "postgres": GroupUsage(cpu_s=2.0),
            "broker": GroupUsage(cpu_s=1.0),
            "bench": GroupUsage(cpu_s=9.0),  # the load generator and the follower
            "lvyue run": GroupUsage(cpu_s=0.4),  # the supervisor: a deployment has none
        },
        duration_s=10.0,
    )
    resources = sample.to_dict(orders=1000, idle={"broker": 0.05})
    per_group = resources["processes"]
    assert isinstance(per_group, dict)
    assert per_group["broker"]["cpu_ms_per_order"] == 0.5  # (1.0 - 0.05 * 10) s / 1000
    assert per_group["lvyue run"]["cpu_s"] == 0.4  # shown
    assert resources["total"] == {"cpu_s": 6.0, "cpu_ms_per_order": 5.5}
    assert sample.to_dict()["total"] == {"cpu_s": 6.0, "cpu_ms_per_order": None}


def test_the_generator_s_cost_is_per_request() -> None:
    sends = [Sent(1.0, 0.01, 0.0, 201, str(i), None) for i in range(400)]
    load = LoadResult(
        started_at=1.0, finished_at=3.0, sends=sends, generator="wrk", generator_cpu_s=0.06,
        generator_stats={"threads": 32},
    )  # fmt: skip
    stats = summary.load_summary(load, target_rate=0, concurrency=32)
    assert stats["webhooks_per_s"] == 200.0
    assert stats["generator"] == {
        "kind": "wrk", "cpu_s": 0.06, "cpu_ms_per_request": 0.15, "threads": 32,
    }  # fmt: skip


def phase(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "intake": {
            "target_rate": "max", "webhooks_per_s": 300.0,
            "generator": {"kind": "wrk", "cpu_ms_per_request": 0.08},
        },
        "e2e_orders_per_s": 240.0,
        "latency": {"end_to_end": {"p99_ms": 1500.0}},
        "resources": {"processes": {"inventory": {"peak_rss_mib": 90.0}},
                      "total": {"cpu_ms_per_order": 9.5}},
    }  # fmt: skip
    return base | overrides


def judged(report: dict[str, Any], latency_rate: float) -> dict[str, dict[str, Any]]:
    return {v["key"]: v for v in summary.verdicts(report, latency_rate=latency_rate)}


def test_the_targets_are_judged_on_their_phases() -> None:
    report: dict[str, Any] = {
        "services": ["inventory"],
        "phases": {"throughput": phase(), "latency": phase(), "intake alone": phase()},
        "ceiling": {"minimal_receiver": {
            "target_rate": "max", "webhooks_per_s": 350.0,
            "generator": {"kind": "wrk", "cpu_ms_per_request": 0.12},
        }},
        "ratios": {"intake_alone_vs_minimal_receiver": 0.857, "intake_vs_minimal_receiver": 0.5},
        "staged_twice": {"order.created": 0, "order.reviewed": 1},
    }  # fmt: skip
    by_key = judged(report, LATENCY_RATE)
    assert by_key["cpu_ms_per_order_total"]["value"] == 9.5
    assert by_key["cpu_ms_per_order_total"]["met"] is False
    assert by_key["e2e_orders_per_s"]["miss_by"] == 10.0
    assert by_key["e2e_p99_ms_at_latency_rate"]["met"] is True
    assert by_key["intake_vs_minimal_receiver"]["value"] == 0.857  # judged on intake alone
    assert by_key["intake_vs_minimal_receiver"]["met"] is True
    assert by_key["generator_cpu_ms_per_request"]["value"] == 0.12  # the dearer of the two
    assert by_key["rss_mib:inventory"]["met"] is True
    assert by_key["pipeline_events_staged_twice"]["value"] == 1
    assert by_key["pipeline_events_staged_twice"]["met"] is False
    paced = {"target_rate": 50.0, "webhooks_per_s": 50.0, "generator": {"cpu_ms_per_request": 1}}
    report["phases"]["throughput"]["intake"] = paced
    report["ceiling"]["minimal_receiver"] = paced
    generator = judged(report, LATENCY_RATE)["generator_cpu_ms_per_request"]
    assert generator["met"] is None  # a paced generator idles between requests
    assert generator["note"] == "judged at capacity only (--rate 0)"
    # a latency phase at another rate says nothing about the target's p99
    other = judged(report, 100.0)["e2e_p99_ms_at_latency_rate"]
    assert other["met"] is None
    assert "--latency-rate 150" in other["note"]


def test_the_python_generator_and_a_short_pool_are_pointed_out() -> None:
    report: dict[str, Any] = {
        "phases": {
            "throughput": {"intake": {"generator": {"kind": "python"}}},
            "latency": {"intake": {"generator": {
                "kind": "wrk", "threads": 32, "signed": 4500, "threads_out_of_requests": 3,
            }}},
        },
        "ceiling": None,
    }  # fmt: skip
    notes = summary.load_notes(report)
    assert len(notes) == 2
    assert notes[0].startswith("throughput: the Python load generator")
    assert "3 of wrk's 32 connections" in notes[1]


def test_a_pace_the_connections_could_not_keep_is_pointed_out() -> None:
    intake = {
        "target_rate": 150.0, "webhooks_per_s": 77.2, "concurrency": 32,
        "send_slip": {"p99_ms": 9000.0},
    }  # fmt: skip
    report: dict[str, Any] = {"phases": {"latency": {"intake": intake}}, "ceiling": None}
    (note,) = summary.load_notes(report)
    assert note.startswith("latency: paced at 150/s but sent 77.2/s: all 32 connections")
    assert "send slip p99 9,000 ms" in note
    intake["webhooks_per_s"] = 149.0  # kept its pace
    assert summary.load_notes(report) == []


def test_kafka_counters_are_summed_over_their_labels() -> None:
    text = """# TYPE lvyue_outbox_published_total counter
lvyue_outbox_published_total{topic="order.created"} 40.0
lvyue_outbox_published_total{topic="order.reviewed"} 2.0
# TYPE lvyue_consumer_messages_total counter
lvyue_consumer_messages_total{consumer="review",outcome="handled",topic="a"} 30.0
lvyue_consumer_messages_total{consumer="review",outcome="duplicate",topic="a"} 1.0
# TYPE lvyue_consumer_batch_messages histogram
lvyue_consumer_batch_messages_bucket{consumer="review",le="+Inf"} 4.0
lvyue_consumer_batch_messages_count{consumer="review"} 4.0
lvyue_consumer_batch_messages_sum{consumer="review"} 31.0
# TYPE lvyue_db_statements_total counter
lvyue_db_statements_total{kind="execute"} 50.0
lvyue_db_statements_total{kind="executemany"} 7.0
"""
    assert servicestats.parse(text) == {
        "produced": 42.0, "consumed": 31.0, "batches": 4.0, "sql_statements": 57.0,
    }  # fmt: skip


def test_kafka_work_per_order_counts_only_services_read_both_times() -> None:
    before = {"inventory": {"produced": 1.0, "consumed": 2.0, "batches": 1.0}}
    after = {
        "inventory": {"produced": 401.0, "consumed": 402.0, "batches": 5.0},
        "fulfilment": {"produced": 9.0},  # not read before: its count would start at zero
    }
    assert servicestats.per_order(before, after, 400) == {
        "inventory": {
            "produced": 1.0, "consumed": 1.0, "batches": 0.01, "messages_per_batch": 100.0,
        }
    }  # fmt: skip
    assert servicestats.per_order(before, after, 0) == {}


def test_sql_statements_are_reported_apart_from_kafka_work() -> None:
    rows = {"inventory": {"consumed": 1.0, "sql_statements": 0.4}, "fulfilment": {"produced": 1.0}}
    assert servicestats.sql_statements(rows) == {"inventory": 0.4}
    assert servicestats.kafka(rows) == {
        "inventory": {"consumed": 1.0},
        "fulfilment": {"produced": 1.0},
    }


def test_the_generator_is_wrk_when_installed_and_can_be_chosen() -> None:
    assert BenchConfig().generator == default_generator()
    assert BenchConfig(generator="python").generator == "python"
    with pytest.raises(ValueError, match="--generator"):
        BenchConfig(generator="ab")
    assert BenchConfig().latency_rate == LATENCY_RATE
