"""The report as rich tables: throughput, latency per stage, errors, resources, ceiling,
scanner and the targets (met, or missed by how much)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from lvyue.cli.bench.report import Verdict, describe, format_number


def _n(value: Any, suffix: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return format_number(float(value)) + suffix
    return str(value)


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", expand=False)
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 else "right")
    return table


def throughput(report: Mapping[str, Any]) -> Table:
    table = _table(
        "Throughput", "phase", "target", "sent", "accepted", "intake /s", "completed",
        "end to end /s", "errors",
    )  # fmt: skip
    for name, phase in (report.get("phases") or {}).items():
        intake = phase["intake"]
        table.add_row(
            name, _n(intake["target_rate"]), _n(intake["sent"]), _n(intake["accepted"]),
            _n(intake["webhooks_per_s"]), _n(phase["completed"]), _n(phase["e2e_orders_per_s"]),
            _n(sum(phase["errors"].values())),
        )  # fmt: skip
    ceiling = report.get("ceiling") or {}
    if raw := ceiling.get("raw_writes"):
        table.add_row("ceiling: raw asyncpg", "max", _n(raw["writes"]), _n(raw["writes"]),
                      _n(raw["writes_per_s"]), "", "", _n(sum(raw["errors"].values())))  # fmt: skip
    if minimal := ceiling.get("minimal_receiver"):
        table.add_row(
            "ceiling: minimal receiver", _n(minimal["target_rate"]), _n(minimal["sent"]),
            _n(minimal["accepted"]), _n(minimal["webhooks_per_s"]), "", "",
            _n(sum(minimal["errors"].values())),
        )  # fmt: skip
    return table


def latency(report: Mapping[str, Any]) -> Table:
    table = _table("Latency (ms)", "phase / stage", "count", "p50", "p95", "p99", "max")
    rows: list[tuple[str, Mapping[str, Any]]] = []
    for name, phase in (report.get("phases") or {}).items():
        rows += [(f"{name}: {stage}", stats) for stage, stats in phase["latency"].items()]
    ceiling = report.get("ceiling") or {}
    if raw := ceiling.get("raw_writes"):
        rows.append(("ceiling: raw asyncpg transaction", raw["latency"]))
    if minimal := ceiling.get("minimal_receiver"):
        rows.append(("ceiling: minimal receiver HTTP", minimal["latency"]))
    for label, stats in rows:
        table.add_row(label, _n(stats["count"]), _n(stats["p50_ms"]), _n(stats["p95_ms"]),
                      _n(stats["p99_ms"]), _n(stats["max_ms"]))  # fmt: skip
    return table


def resources(report: Mapping[str, Any]) -> Table:
    table = _table(
        "Resources per phase (totals: every process but the bench and lvyue run)",
        "phase / process", "CPU s",
        "CPU ms/order (net of idle)",
        "peak RSS MiB (postgres: PSS)", "peak outbox backlog", "peak consumer lag",
    )  # fmt: skip
    sections = list((report.get("phases") or {}).items())
    sections += [(f"ceiling: {k}", v) for k, v in (report.get("ceiling") or {}).items()]
    for name, section in sections:
        usage = section.get("resources", {})
        for process, stats in usage.get("processes", {}).items():
            table.add_row(
                f"{name}: {process}", _n(stats["cpu_s"]), _n(stats.get("cpu_ms_per_order")),
                _n(stats["peak_rss_mib"]),
                _n(usage.get("peak_outbox_backlog", {}).get(process)),
                _n(usage.get("peak_consumer_lag", {}).get(process)),
            )  # fmt: skip
        if total := usage.get("total"):
            table.add_row(
                Text(f"{name}: CPU per order, total", style="bold"),
                _n(total["cpu_s"]), Text(_n(total["cpu_ms_per_order"]), style="bold"), "", "", "",
            )  # fmt: skip
    return table


def generators(report: Mapping[str, Any]) -> Table:
    table = _table(
        "Load generator", "phase", "generator", "connections", "requests", "CPU s",
        "CPU ms/request", "signed", "ran out",
    )  # fmt: skip
    runs = [(name, phase["intake"]) for name, phase in (report.get("phases") or {}).items()]
    if minimal := (report.get("ceiling") or {}).get("minimal_receiver"):
        runs.append(("ceiling: minimal receiver", minimal))
    for name, run in runs:
        gen = run.get("generator") or {}
        table.add_row(
            name, _n(gen.get("kind")), _n(gen.get("connections", run["concurrency"])),
            _n(run["sent"]), _n(gen.get("cpu_s")), _n(gen.get("cpu_ms_per_request")),
            _n(gen.get("signed")), _n(gen.get("threads_out_of_requests")),
        )  # fmt: skip
    return table


def kafka(report: Mapping[str, Any]) -> Table:
    table = _table(
        "Kafka messages per completed order (services' /metrics)", "phase / service",
        "produced", "consumed", "consumer batches (1 tx + 1 offset commit each)",
        "messages per batch",
    )  # fmt: skip
    for name, phase in (report.get("phases") or {}).items():
        for service, counts in phase.get("kafka_per_order", {}).items():
            table.add_row(
                f"{name}: {service}", _n(counts.get("produced")), _n(counts.get("consumed")),
                _n(counts.get("batches")), _n(counts.get("messages_per_batch")),
            )  # fmt: skip
    return table


def database(report: Mapping[str, Any]) -> Table:
    table = _table(
        "Database work per completed order, net of idle (pg_stat_database; statements: the "
        "services' engines)", "phase / database", "commits", "rollbacks", "rows inserted",
        "rows updated", "rows fetched", "SQL statements",
    )  # fmt: skip
    for name, phase in (report.get("phases") or {}).items():
        statements = phase.get("sql_statements_per_order", {})
        for db, counts in phase.get("database_per_order", {}).items():
            # a service's database is named after it: lvyue_order_review <- order-review
            processes = [s for s in statements if db == "lvyue_" + s.split()[0].replace("-", "_")]
            table.add_row(
                f"{name}: {db}", _n(counts["xact_commit"]), _n(counts["xact_rollback"]),
                _n(counts["tup_inserted"]), _n(counts["tup_updated"]), _n(counts["tup_fetched"]),
                _n(round(sum(statements[p] for p in processes), 3) if processes else None),
            )  # fmt: skip
    return table


def errors(report: Mapping[str, Any]) -> Table:
    table = _table("Errors by kind", "phase", "kind", "count")
    for name, phase in (report.get("phases") or {}).items():
        for kind, count in phase["errors"].items():
            table.add_row(name, kind, _n(count))
        if not phase["errors"]:
            table.add_row(name, "none", "0")
    return table


def scanner(report: Mapping[str, Any]) -> Table | None:
    bench = report.get("scanner")
    if not bench:
        return None
    table = _table(
        f"Deadline scanner ({bench['deadlines']:,} open, {bench['due']:,} falling due)",
        "measure", "value",
    )  # fmt: skip
    table.add_row("COPY rows/s", _n(bench["insert_rows_per_s"]))
    for point in bench["scan_cost"]:
        label = f"{point['open_deadlines']:,} open"
        table.add_row(f"{label}: idle scan_once ms", _n(point["idle_scan_ms"]))
        table.add_row(
            f"{label}: scan_once breaching {point['batch_size']} ms",
            _n(point["full_batch_scan_ms"]),
        )
        table.add_row(f"{label}: refresh_gauges ms", _n(point["refresh_gauges_ms"]))
    firing = bench["firing"]
    table.add_row("breached / missed", f"{firing['breached']:,} / {firing['missed']:,}")
    table.add_row(
        "breached per replica", ", ".join(f"{n:,}" for n in firing["breached_per_replica"])
    )
    table.add_row("CPU s per replica", ", ".join(_n(n) for n in firing["cpu_s_per_replica"]))
    table.add_row(
        "firing lag p50 / p99 ms", f"{_n(firing['lag']['p50_ms'])} / {_n(firing['lag']['p99_ms'])}"
    )
    for name in ("scan_once", "refresh_gauges"):
        stats = firing[name]
        table.add_row(
            f"{name} p50 / p99 ms (while firing)", f"{_n(stats['p50_ms'])} / {_n(stats['p99_ms'])}"
        )
    table.add_row("double fires", _n(firing["double_fires"]))
    return table


def console(report: Mapping[str, Any]) -> Table | None:
    bench = report.get("console")
    if not bench:
        return None
    table = _table(
        f"Console pages ({bench['queue_total']:,} orders in the abnormal queue, "
        f"{bench['requests_per_page']} requests each)",
        "page", "p50 ms", "p95 ms", "p99 ms", "max ms",
    )  # fmt: skip
    for page, stats in bench["pages"].items():
        table.add_row(
            page, _n(stats["p50_ms"]), _n(stats["p95_ms"]), _n(stats["p99_ms"]),
            _n(stats["max_ms"]),
        )  # fmt: skip
    return table


def targets(report: Mapping[str, Any]) -> Table:
    table = _table("Targets", "target", "goal", "measured", "verdict")
    for row in report.get("targets", []):
        verdict = Verdict(**row)
        sign = "≥" if verdict.higher_is_better else "≤"
        unit = f" {verdict.unit}" if verdict.unit else ""
        style = {True: "green", False: "bold red", None: "dim"}[verdict.met]
        table.add_row(
            verdict.description, f"{sign} {format_number(verdict.threshold)}{unit}",
            _n(verdict.value), Text(describe(verdict), style=style),
        )  # fmt: skip
    return table


def ratios(report: Mapping[str, Any]) -> Table:
    table = _table("lvyue / ceiling", "ratio", "value")
    for name, value in (report.get("ratios") or {}).items():
        table.add_row(name.replace("_", " "), _n(value))
    return table


def per_core(report: Mapping[str, Any]) -> Table | None:
    figures = report.get("per_core")
    if not figures:
        return None
    limits = report["cpu_limits"]
    table = _table(
        f"Per allotted core ({limits['cores_per_replica']:g} cores per replica, "
        f"{limits['allotted_cores']:g} in all; PostgreSQL and broker unlimited)",
        "figure", "value",
    )  # fmt: skip
    for name, value in figures.items():
        table.add_row(name.replace("_", " "), _n(value))
    return table


def render(report: Mapping[str, Any]) -> Group:
    parts: list[Table | Text] = [throughput(report), latency(report), errors(report)]
    parts += [generators(report), resources(report), database(report), kafka(report)]
    parts.append(ratios(report))
    if (cores := per_core(report)) is not None:
        parts.append(cores)
    if (scan := scanner(report)) is not None:
        parts.append(scan)
    if (pages := console(report)) is not None:
        parts.append(pages)
    parts.append(targets(report))
    parts += [Text(f"note: {note}", style="yellow") for note in report.get("notes", [])]
    return Group(*parts)
