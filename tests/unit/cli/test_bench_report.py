"""The bench's arithmetic: percentiles, rates, ratios, stage latencies and target verdicts."""

from __future__ import annotations

import pytest

from lvyue.cli.bench.report import (
    LATENCY_RATE,
    TARGET,
    TARGETS,
    completion_rate,
    count_errors,
    cpu_ms_per_order,
    describe,
    evaluate,
    evaluate_all,
    is_capacity,
    latency_summary,
    merge_counts,
    per_order_deltas,
    percentile,
    rate,
    ratio,
    rss_target,
    stage_latencies,
    throughput_for_target,
    total_cpu_ms_per_order,
)

CHAIN = ["order.created", "inventory.reserved", "order.reviewed"]


def test_percentile_interpolates_between_ranks() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 100.0


def test_percentile_ignores_input_order_and_handles_one_value() -> None:
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([7.0], 99) == 7.0


def test_percentile_of_nothing_is_none_not_zero() -> None:
    assert percentile([], 99) is None


def test_percentile_outside_0_to_100_is_refused() -> None:
    with pytest.raises(ValueError, match=r"0\.\.100"):
        percentile([1.0], 101)


def test_latency_summary_reports_milliseconds() -> None:
    summary = latency_summary([0.010, 0.020, 0.030, 0.040])
    assert summary["count"] == 4
    assert summary["p50_ms"] == 25.0
    assert summary["max_ms"] == 40.0
    assert summary["mean_ms"] == 25.0


def test_latency_summary_of_nothing_has_no_numbers() -> None:
    summary = latency_summary([])
    assert summary["count"] == 0
    assert summary["p99_ms"] is None
    assert summary["max_ms"] is None


def test_rate_and_ratio_are_none_when_undefined() -> None:
    assert rate(300, 2.0) == 150.0
    assert rate(10, 0.0) is None
    assert ratio(1200.0, 1600.0) == 0.75
    assert ratio(None, 1600.0) is None
    assert ratio(1200.0, 0.0) is None


def test_stage_latencies_follow_each_order_through_the_chain() -> None:
    sent = {"a": 100.0, "b": 100.5}
    seen = {
        "order.created": {"a": 100.1, "b": 100.6},
        "inventory.reserved": {"a": 100.4, "b": 101.0},
        "order.reviewed": {"a": 100.9},  # b has not been reviewed
    }
    stages = stage_latencies(sent, seen, CHAIN)
    assert stages["created→reserved"] == pytest.approx([0.3, 0.4])
    assert stages["reserved→reviewed"] == pytest.approx([0.5])
    assert stages["end_to_end"] == pytest.approx([0.9])


def test_stage_latencies_ignore_events_of_orders_not_sent_in_this_phase() -> None:
    stages = stage_latencies({"a": 1.0}, {"order.created": {"z": 2.0}}, CHAIN)
    assert stages["created→reserved"] == []
    assert stages["end_to_end"] == []


def test_completion_rate_is_measured_where_orders_come_out() -> None:
    sent = {str(i): float(i) / 10 for i in range(11)}
    # a pipeline that keeps up: orders leave 0.1 s apart, like they came in
    assert completion_rate(sent, {o: t + 2.0 for o, t in sent.items()}) == 10.0
    # a slow one: they leave 0.5 s apart
    assert completion_rate(sent, {o: 5 + int(o) * 0.5 for o in sent}) == 2.0
    assert completion_rate(sent, {"0": 3.0}) is None


def test_a_throughput_target_met_or_missed_by_how_much() -> None:
    e2e = TARGET["e2e_orders_per_s"]
    met = evaluate(e2e, 270.0)
    assert met.met is True
    assert met.miss_by is None
    assert describe(met) == "met"
    missed = evaluate(e2e, 200.0)
    assert missed.met is False
    assert missed.miss_by == 50.0
    assert missed.miss_by_pct == 20.0
    assert describe(missed) == "missed by 50.0 orders/s (20.0%)"


def test_a_cost_target_is_missed_when_above_its_ceiling() -> None:
    cpu = TARGET["cpu_ms_per_order_total"]
    assert evaluate(cpu, 8.0).met is True  # the bound itself is allowed
    missed = evaluate(cpu, 12.0)
    assert missed.met is False
    assert missed.miss_by == 4.0
    assert missed.miss_by_pct == 50.0


def test_the_targets_are_the_throughput_issue_s() -> None:
    assert TARGET["cpu_ms_per_order_total"].threshold == 8
    assert TARGET["e2e_orders_per_s"].threshold == 250
    assert LATENCY_RATE == 150  # 60% of 250
    p99 = TARGET["e2e_p99_ms_at_latency_rate"]
    assert (p99.threshold, p99.higher_is_better) == (2000, False)
    assert "150 orders/s" in p99.description
    assert TARGET["intake_vs_minimal_receiver"].threshold == 0.75
    assert TARGET["generator_cpu_ms_per_request"].threshold == 0.2
    assert "intake_webhooks_per_s" not in TARGET  # intake throughput is reported, not judged


def test_double_fires_must_be_zero() -> None:
    doubles = TARGET["deadline_double_fires"]
    assert evaluate(doubles, 0).met is True
    missed = evaluate(doubles, 3)
    assert missed.met is False
    assert missed.miss_by == 3
    assert missed.miss_by_pct is None  # no share of a zero threshold
    assert describe(missed) == "missed by 3.0"


def test_a_target_not_measured_is_neither_met_nor_missed() -> None:
    verdict = evaluate(TARGET["e2e_p99_ms_at_latency_rate"], None, note="needs a phase at 150/s")
    assert verdict.met is None
    assert describe(verdict) == "needs a phase at 150/s"


def test_evaluate_all_adds_one_rss_target_per_service() -> None:
    verdicts = evaluate_all(
        {"e2e_orders_per_s": 250.0, "rss_mib:order-review": 240.0},
        services=["order-review", "inventory"],
        notes={"cpu_ms_per_order_total": "not run", "e2e_orders_per_s": "unused when measured"},
    )
    by_key = {v.key: v for v in verdicts}
    assert set(by_key) == {t.key for t in TARGETS} | {"rss_mib:order-review", "rss_mib:inventory"}
    assert by_key["e2e_orders_per_s"].met is True
    assert by_key["e2e_orders_per_s"].note == ""
    assert by_key["cpu_ms_per_order_total"].note == "not run"
    assert by_key["rss_mib:order-review"].miss_by == 40.0
    assert by_key["rss_mib:inventory"].met is None
    assert rss_target("inventory").threshold == 200


def test_errors_are_counted_by_kind_most_frequent_first() -> None:
    counts = count_errors([None, "timeout", "http_500", "timeout", None])
    assert list(counts.items()) == [("timeout", 2), ("http_500", 1)]
    assert merge_counts(counts, {"http_500": 2, "abnormal": 1}) == {
        "http_500": 3,
        "timeout": 2,
        "abnormal": 1,
    }


def test_a_paced_phase_that_kept_its_pace_shows_no_capacity() -> None:
    assert is_capacity(1200.0, "max")
    assert is_capacity(1200.0, 0)
    assert is_capacity(400.0, 500.0)  # fell short of its pace: the system was the limit
    assert not is_capacity(499.0, 500.0)  # kept it: the system might do more
    assert not is_capacity(None, "max")


def test_a_paced_throughput_is_judged_only_when_it_decides_the_target() -> None:
    assert throughput_for_target(140.0, "max", 250) == 140.0  # a capacity: missed
    assert throughput_for_target(49.9, 50.0, 250) is None  # only a lower bound: unknown
    assert throughput_for_target(300.0, 300.0, 250) == 300.0  # a bound that already meets


def test_cpu_per_order_leaves_out_what_the_process_burns_at_idle() -> None:
    # 12 s of CPU over a 10 s phase, 0.2 cores at idle, 500 orders: (12 - 2) / 500 = 20 ms
    assert cpu_ms_per_order(12.0, 0.2, 10.0, 500) == 20.0
    assert cpu_ms_per_order(1.0, 0.2, 10.0, 500) == 0.0  # quieter than idle: nothing
    assert cpu_ms_per_order(5.0, 0.0, 10.0, 0) is None


def test_the_total_cpu_per_order_needs_every_group() -> None:
    assert total_cpu_ms_per_order({"inventory": 1.25, "postgres": 2.5, "broker": 0.5}) == 4.25
    assert total_cpu_ms_per_order({"inventory": 1.0, "postgres": None}) is None
    assert total_cpu_ms_per_order({}) is None


def test_database_counters_are_divided_per_order() -> None:
    before = {"lvyue_inventory": {"xact_commit": 100, "tup_inserted": 10}}
    after = {
        "lvyue_inventory": {"xact_commit": 400, "tup_inserted": 610},
        "lvyue_fulfilment": {"xact_commit": 50, "tup_inserted": 0},  # created during the phase
    }
    assert per_order_deltas(before, after, 100) == {
        "lvyue_inventory": {"xact_commit": 3.0, "tup_inserted": 6.0},
        "lvyue_fulfilment": {"xact_commit": 0.5, "tup_inserted": 0.0},
    }
    assert per_order_deltas(before, after, 0) == {}


def test_database_work_per_order_leaves_out_idle_polling() -> None:
    before = {"lvyue_order_review": {"xact_commit": 0}}
    after = {"lvyue_order_review": {"xact_commit": 700}}
    idle = {"lvyue_order_review": {"xact_commit": 20.0}}  # a relay polling 20 times a second
    # 700 commits in 10 s, 200 of them idle polling: 500 for 100 orders
    assert per_order_deltas(before, after, 100, idle_per_s=idle, seconds=10.0) == {
        "lvyue_order_review": {"xact_commit": 5.0}
    }
