"""Generates the lvyue Grafana dashboards (deploy/grafana/dashboards/*.json) from plain dicts.

    python deploy/grafana/generate.py           # (re)write the JSON files
    python deploy/grafana/generate.py --check   # exit 1 if a committed file differs

Classic dashboard JSON with schemaVersion 39: Grafana 11 loads it as is, Grafana 12 migrates
it on load. The output is stable (sorted keys, fixed ids and positions) so a diff shows real
changes. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

DASHBOARDS_DIR = Path(__file__).resolve().parent / "dashboards"
SCHEMA_VERSION = 39
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
SERVICES = ("order-review", "inventory", "fulfilment", "aftersales")
OBJECTIVE = 0.98  # ARCHITECTURE.md, rule fulfilment_rate_98
BUDGET = 0.02  # 1 - OBJECTIVE, written out so the queries read 0.02 and not 0.020000000000000018
NOT_PROBES = 'route!~"/livez|/readyz|/metrics"'

Json = dict[str, Any]
Query = tuple[str, str]  # (PromQL, legend)


# ------------------------------------------------------------------------------ panels


def steps(*pairs: tuple[float | None, str]) -> Json:
    """Threshold steps: (None, base colour), then (value, colour from that value up)."""
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for v, c in pairs]}


COMPLIANCE = steps((None, "red"), (OBJECTIVE, "green"))
BUDGET_LEFT = steps((None, "red"), (0, "orange"), (0.25, "green"))
GREEN = steps((None, "green"))


def targets(
    queries: tuple[Query, ...], *, instant: bool = False, table: bool = False
) -> list[Json]:
    return [
        {
            "datasource": DATASOURCE,
            "editorMode": "code",
            "expr": expr,
            "format": "table" if table else "time_series",
            "instant": instant,
            "legendFormat": legend or "__auto",
            "range": not instant,
            "refId": chr(ord("A") + i),
        }
        for i, (expr, legend) in enumerate(queries)
    ]


def panel(kind: str, title: str, size: tuple[int, int], description: str, defaults: Json) -> Json:
    return {
        "datasource": DATASOURCE,
        "description": description,
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "gridPos": {"w": size[0], "h": size[1]},
        "title": title,
        "type": kind,
    }


def timeseries(
    title: str,
    *queries: Query,
    unit: str = "short",
    info: str = "",
    size: tuple[int, int] = (12, 8),
    bars: bool = False,
    stack: bool = False,
    limit: float | None = None,
    marks: Json | None = None,
) -> Json:
    """A graph; `marks` draws its thresholds as lines, `limit` caps the y axis."""
    custom = {
        "drawStyle": "bars" if bars else "line",
        "fillOpacity": 60 if bars else 10,
        "lineWidth": 1,
        "showPoints": "never",
        "spanNulls": False,
        "stacking": {"group": "A", "mode": "normal" if stack else "none"},
        "thresholdsStyle": {"mode": "line" if marks else "off"},
    }
    defaults: Json = {"custom": custom, "thresholds": marks or GREEN, "unit": unit}
    if limit is not None:
        defaults["max"] = limit
    result = panel("timeseries", title, size, info, defaults)
    result["options"] = {
        "legend": {"calcs": ["lastNotNull", "max"], "displayMode": "table", "placement": "right"},
        "tooltip": {"mode": "multi", "sort": "desc"},
    }
    result["targets"] = targets(queries)
    return result


def stat(
    title: str,
    *queries: Query,
    unit: str = "short",
    info: str = "",
    size: tuple[int, int] = (12, 5),
    colours: Json = GREEN,
    decimals: int | None = None,
) -> Json:
    defaults: Json = {"thresholds": colours, "unit": unit}
    if decimals is not None:
        defaults["decimals"] = decimals
    result = panel("stat", title, size, info, defaults)
    result["options"] = {
        "colorMode": "background",
        "graphMode": "none",
        "justifyMode": "auto",
        "orientation": "auto",
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "textMode": "value_and_name",
    }
    result["targets"] = targets(queries)
    return result


def bargauge(title: str, *queries: Query, info: str = "", size: tuple[int, int] = (12, 8)) -> Json:
    """Instant values as horizontal bars (counts over the dashboard's time range)."""
    result = panel("bargauge", title, size, info, {"min": 0, "thresholds": steps((None, "blue"))})
    result["options"] = {
        "displayMode": "gradient",
        "orientation": "horizontal",
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "showUnfilled": True,
    }
    result["targets"] = targets(queries, instant=True)
    return result


def table(
    title: str, *queries: Query, info: str = "", size: tuple[int, int] = (24, 8), hide: Json
) -> Json:
    """Instant queries merged into one row per label set; `hide` maps columns to rename or drop."""
    result = panel("table", title, size, info, {"unit": "short"})
    result["options"] = {"cellHeight": "sm", "showHeader": True}
    result["targets"] = targets(queries, instant=True, table=True)
    result["transformations"] = [
        {"id": "merge", "options": {}},
        {
            "id": "organize",
            "options": {
                "excludeByName": {k: True for k, v in hide.items() if v is None},
                "renameByName": {k: v for k, v in hide.items() if v is not None},
            },
        },
    ]
    return result


def row(title: str) -> Json:
    return {
        "collapsed": False,
        "gridPos": {"w": 24, "h": 1},
        "panels": [],
        "title": title,
        "type": "row",
    }


def layout(panels: list[Json]) -> list[Json]:
    """Fixed ids; panels fill Grafana's 24-column grid left to right, rows start a new line."""
    x = y = line_height = 0
    placed = []
    for number, item in enumerate(panels, start=1):
        w, h = item["gridPos"]["w"], item["gridPos"]["h"]
        if item["type"] == "row" or x + w > 24:
            x, y, line_height = 0, y + line_height, 0
        placed.append(dict(item, id=number, gridPos={"h": h, "w": w, "x": x, "y": y}))
        x, line_height = x + w, max(line_height, h)
    return placed


def variable(name: str, label: str, query: str) -> Json:
    return {
        "allValue": ".+",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "datasource": DATASOURCE,
        "definition": query,
        "hide": 0,
        "includeAll": True,
        "label": label,
        "multi": True,
        "name": name,
        "options": [],
        "query": {"qryType": 1, "query": query, "refId": "PrometheusVariableQueryEditor"},
        "refresh": 2,
        "regex": "",
        "sort": 1,
        "type": "query",
    }


def dashboard(uid: str, title: str, info: str, panels: list[Json], *extra_vars: Json) -> Json:
    datasource_var = {
        "current": {},
        "hide": 0,
        "includeAll": False,
        "label": "Data source",
        "multi": False,
        "name": "datasource",
        "options": [],
        "query": "prometheus",
        "refresh": 1,
        "regex": "",
        "type": "datasource",
    }
    builtin_annotations = {
        "builtIn": 1,
        "datasource": {"type": "grafana", "uid": "-- Grafana --"},
        "enable": True,
        "hide": True,
        "iconColor": "rgba(0, 211, 255, 1)",
        "name": "Annotations & Alerts",
        "type": "dashboard",
    }
    other_dashboards = {
        "asDropdown": True,
        "icon": "external link",
        "includeVars": False,
        "keepTime": True,
        "tags": ["lvyue"],
        "targetBlank": False,
        "title": "lvyue dashboards",
        "type": "dashboards",
    }
    return {
        "annotations": {"list": [builtin_annotations]},
        "description": info,
        "editable": True,
        "fiscalYearStartMonth": 0,
        "graphTooltip": 1,
        "links": [other_dashboards],
        "panels": layout(panels),
        "refresh": "1m",
        "schemaVersion": SCHEMA_VERSION,
        "tags": ["lvyue"],
        "templating": {"list": [datasource_var, *extra_vars]},
        "time": {"from": "now-24h", "to": "now"},
        "timepicker": {},
        "timezone": "Asia/Shanghai",  # cut-offs (09:00, 16:00) read in the business timezone
        "title": title,
        "uid": uid,
        "version": 1,
        "weekStart": "monday",
    }


def per_minute(series: str, by: str) -> str:
    return f"sum by ({by}) (rate({series}[$__rate_interval])) * 60"


def per_hour(series: str, by: str) -> str:
    return f"sum by ({by}) (increase({series}[1h]))"


# ------------------------------------------------------------------------------ dashboards


def overview() -> Json:
    s = 'sla=~"$sla"'
    ours = "|".join(SERVICES)
    panels = [
        row("Objective: at least 98% of deadlines met, per SLA (fulfilment_rate_98)"),
        stat(
            "Compliance, last hour",
            (f"sla:lvyue_sla_compliance:ratio_rate1h{{{s}}}", "{{sla}}"),
            unit="percentunit",
            info="Met / (met + breached) of the deadlines closed in the last hour; red below "
            "98%. No value: none of that SLA closed in the hour.",
            colours=COMPLIANCE,
            decimals=2,
        ),
        stat(
            "Error budget left, 30 days",
            (f"sla:lvyue_sla_error_budget_remaining:ratio30d{{{s}}}", "{{sla}}"),
            unit="percentunit",
            info="Share of the 30-day budget (2% of closed deadlines) not spent; negative: "
            "overspent.",
            colours=BUDGET_LEFT,
            decimals=1,
        ),
        timeseries(
            "Compliance vs the 98% objective (1h window)",
            (f"sla:lvyue_sla_compliance:ratio_rate1h{{{s}}}", "{{sla}}"),
            unit="percentunit",
            limit=1,
            marks=COMPLIANCE,
        ),
        timeseries(
            "Error-budget burn rate",
            (f"sla:lvyue_sla_error:ratio_rate1h{{{s}}} / {BUDGET}", "{{sla}} 1h"),
            (f"sla:lvyue_sla_error:ratio_rate6h{{{s}}} / {BUDGET}", "{{sla}} 6h"),
            info="1 spends the budget in exactly 30 days. Pages at 14.4 (1h and 5m windows) and "
            "6 (6h and 30m); a ticket at 1 (3d and 6h).",
            marks=steps((None, "green"), (6, "orange"), (14.4, "red")),
        ),
        stat(
            "Compliance, last 3 days",
            (f"sla:lvyue_sla_compliance:ratio_rate3d{{{s}}}", "{{sla}}"),
            unit="percentunit",
            size=(24, 4),
            colours=COMPLIANCE,
            decimals=2,
        ),
        row("Deadlines"),
        timeseries(
            "Breaches per hour",
            (per_hour(f"lvyue_sla_deadlines_breached_total{{{s}}}", "sla"), "{{sla}}"),
            bars=True,
            stack=True,
        ),
        timeseries(
            "Closed per hour (met + breached)",
            (f"sla:lvyue_sla_deadlines_closed:rate1h{{{s}}} * 3600", "{{sla}}"),
            info="The burn-rate alerts need at least 10 closed in their long window.",
        ),
        timeseries(
            "Open",
            (f"max by (sla) (lvyue_sla_open{{{s}}})", "{{sla}}"),
            info="Read from each service's database: replicas report the same number (max).",
        ),
        timeseries(
            "At risk (past LVYUE_DEADLINE_AT_RISK_FRACTION of their time)",
            (f"max by (sla) (lvyue_sla_at_risk{{{s}}})", "{{sla}}"),
            marks=steps((None, "green"), (1, "orange")),
        ),
        timeseries(
            "Overdue and not yet breached",
            (f"max by (sla) (lvyue_sla_overdue{{{s}}})", "{{sla}}"),
            info="Stays at 0 while the deadline scanner works: it breaches within seconds.",
            marks=steps((None, "green"), (1, "red")),
        ),
        timeseries(
            "Time to close, p95",
            (
                "histogram_quantile(0.95, sum by (sla, le) "
                f"(rate(lvyue_sla_time_to_close_seconds_bucket{{{s}}}[$__rate_interval])))",
                "{{sla}}",
            ),
            unit="s",
        ),
        table(
            "Per SLA now",
            (f"sla:lvyue_sla_compliance:ratio_rate1h{{{s}}}", ""),
            (f"sla:lvyue_sla_compliance:ratio_rate3d{{{s}}}", ""),
            (f"sla:lvyue_sla_error_budget_remaining:ratio30d{{{s}}}", ""),
            (f"max by (sla) (lvyue_sla_open{{{s}}})", ""),
            (f"max by (sla) (lvyue_sla_at_risk{{{s}}})", ""),
            (f"sum by (sla) (increase(lvyue_sla_deadlines_breached_total{{{s}}}[24h]))", ""),
            hide={
                "Time": None,
                "Value #A": "compliance 1h",
                "Value #B": "compliance 3d",
                "Value #C": "30-day budget left",
                "Value #D": "open",
                "Value #E": "at risk",
                "Value #F": "breached in 24h",
            },
        ),
        row("Platform"),
        stat(
            "Replicas up",
            (f'sum by (job) (up{{job=~"{ours}"}})', "{{job}}"),
            size=(8, 6),
            colours=steps((None, "red"), (1, "green")),
        ),
        table(
            "Firing lvyue alerts",
            (
                "sum by (alertname, severity, sla, job) "
                '(ALERTS{alertstate="firing", alertname=~"Lvyue.*"})',
                "",
            ),
            size=(16, 6),
            hide={"Time": None, "Value": None},
        ),
        timeseries(
            "Outbox: oldest unsent event",
            ("max by (job) (lvyue_outbox_oldest_unsent_age_seconds)", "{{job}}"),
            unit="s",
            marks=steps((None, "green"), (300, "red")),
        ),
        timeseries(
            "Consumer lag",
            ("max by (job, topic) (lvyue_consumer_lag_messages)", "{{job}} {{topic}}"),
            marks=steps((None, "green"), (1000, "orange")),
        ),
    ]
    return dashboard(
        "lvyue-overview",
        "lvyue / SLA overview",
        "Per-SLA compliance against the 98% objective, error budget, breaches, open and at-risk "
        "deadlines (rules: deploy/prometheus/rules/lvyue-sla.rules.yml).",
        panels,
        variable("sla", "SLA", "label_values(lvyue_sla_deadlines_opened_total, sla)"),
    )


def service_sections(job: str) -> list[Json]:
    """What every service dashboard ends with: its SLAs, HTTP, outbox and consumers."""
    j = f'job="{job}"'
    http = f"lvyue_http_request_duration_seconds_bucket{{{j}, {NOT_PROBES}}}"
    own_slas = f"group by (sla) (lvyue_sla_deadlines_opened_total{{{j}}})"
    return [
        row("SLAs owned by this service"),
        timeseries(
            "Compliance (1h window) vs 98%",
            (f"sla:lvyue_sla_compliance:ratio_rate1h and on (sla) {own_slas}", "{{sla}}"),
            unit="percentunit",
            size=(8, 8),
            limit=1,
            marks=COMPLIANCE,
        ),
        timeseries(
            "Open and at risk",
            (f"max by (sla) (lvyue_sla_open{{{j}}})", "{{sla}} open"),
            (f"max by (sla) (lvyue_sla_at_risk{{{j}}})", "{{sla}} at risk"),
            size=(8, 8),
        ),
        timeseries(
            "Breaches per hour",
            (per_hour(f"lvyue_sla_deadlines_breached_total{{{j}}}", "sla"), "{{sla}}"),
            size=(8, 8),
            bars=True,
        ),
        row("HTTP (probes left out)"),
        timeseries(
            "Requests by status",
            (
                "sum by (status) (rate(lvyue_http_request_duration_seconds_count"
                f"{{{j}, {NOT_PROBES}}}[$__rate_interval]))",
                "{{status}}",
            ),
            unit="reqps",
            stack=True,
        ),
        timeseries(
            "Latency p50 / p95 / p99",
            *(
                (
                    f"histogram_quantile({q}, sum by (le) (rate({http}[$__rate_interval])))",
                    f"p{round(q * 100)}",
                )
                for q in (0.5, 0.95, 0.99)
            ),
            unit="s",
        ),
        timeseries(
            "p95 latency by route",
            (
                f"histogram_quantile(0.95, sum by (route, le) (rate({http}[$__rate_interval])))",
                "{{route}}",
            ),
            unit="s",
            size=(24, 8),
        ),
        row("Events: outbox and consumers"),
        timeseries(
            "Outbox: unsent rows and oldest age",
            (f"max(lvyue_outbox_backlog{{{j}}})", "unsent rows"),
            (f"max(lvyue_outbox_oldest_unsent_age_seconds{{{j}}})", "oldest, seconds"),
            info="Read from the database: every replica reports the same (max).",
        ),
        timeseries(
            "Published per topic",
            (per_minute(f"lvyue_outbox_published_total{{{j}}}", "topic"), "{{topic}}"),
            (per_minute(f"lvyue_outbox_publish_failures_total{{{j}}}", "job"), "failed batches"),
            unit="opm",
        ),
        timeseries(
            "Consumed by topic and outcome",
            (
                per_minute(f"lvyue_consumer_messages_total{{{j}}}", "topic, outcome"),
                "{{topic}} {{outcome}}",
            ),
            unit="opm",
        ),
        timeseries(
            "Consumer lag by topic",
            (f"max by (topic) (lvyue_consumer_lag_messages{{{j}}})", "{{topic}}"),
            marks=steps((None, "green"), (1000, "orange")),
        ),
        timeseries(
            "Handling time p95 by topic",
            (
                "histogram_quantile(0.95, sum by (topic, le) "
                f"(rate(lvyue_consumer_handle_seconds_bucket{{{j}}}[$__rate_interval])))",
                "{{topic}}",
            ),
            unit="s",
        ),
        timeseries(
            "Dead letters per hour",
            (per_hour(f"lvyue_consumer_dead_letters_total{{{j}}}", "topic"), "{{topic}}"),
            bars=True,
            marks=steps((None, "green"), (1, "red")),
        ),
        timeseries(
            "Dead letters waiting to be redriven",
            (f"max by (consumer) (lvyue_consumer_dead_letters_waiting{{{j}}})", "{{consumer}}"),
            marks=steps((None, "green"), (1, "red")),
        ),
        row("Periodic jobs and retention"),
        timeseries(
            "Failed job runs per hour",
            (
                per_hour(f'lvyue_job_runs_total{{{j}, outcome="failed"}}', "job_name"),
                "{{job_name}}",
            ),
            bars=True,
            marks=steps((None, "green"), (1, "orange")),
            info="A job failing every run for two hours opens LvyueJobFailing.",
        ),
        timeseries(
            "Kernel rows pruned per hour",
            (per_hour(f"lvyue_kernel_rows_pruned_total{{{j}}}", "table"), "{{table}}"),
            bars=True,
            info="Sent outbox rows, inbox rows and republished dead letters past their "
            "retention (LVYUE_*_RETENTION_DAYS).",
        ),
    ]


def order_review() -> Json:
    j = 'job="order-review"'
    reasons = f"lvyue_review_abnormal_reasons_total{{{j}}}"
    panels = [
        row("Intake and review"),
        timeseries(
            "Order webhooks by platform and outcome",
            (
                per_minute(f"lvyue_intake_webhooks_total{{{j}}}", "platform, outcome"),
                "{{platform}} {{outcome}}",
            ),
            unit="opm",
            stack=True,
        ),
        timeseries(
            "Review outcomes",
            (per_minute(f"lvyue_review_outcomes_total{{{j}}}", "outcome"), "{{outcome}}"),
            unit="opm",
            stack=True,
        ),
        bargauge(
            "Abnormal reasons in the time range",
            (f"sort_desc(sum by (reason) (increase({reasons}[$__range])))", "{{reason}}"),
        ),
        timeseries(
            "Abnormal reasons over time",
            (per_minute(reasons, "reason"), "{{reason}}"),
            unit="opm",
            stack=True,
        ),
    ]
    return dashboard(
        "lvyue-order-review",
        "lvyue / order-review",
        "Order intake by platform, review outcomes and abnormal reasons; HTTP; events.",
        panels + service_sections("order-review"),
    )


def inventory() -> Json:
    j = 'job="inventory"'
    low_now = (f"max(lvyue_inventory_low_stock_skus{{{j}}})", "low-stock SKUs")
    panels = [
        row("Stock"),
        timeseries(
            "Reservations by outcome",
            (per_minute(f"lvyue_inventory_reservations_total{{{j}}}", "outcome"), "{{outcome}}"),
            unit="opm",
            stack=True,
        ),
        stat(
            "SKUs below safety stock now",
            low_now,
            size=(6, 8),
            colours=steps((None, "green"), (1, "orange")),
        ),
        timeseries(
            "SKUs below safety stock",
            low_now,
            info="Read from the database: every replica reports the same (max).",
            size=(6, 8),
        ),
        timeseries(
            "Low-stock crossings per hour by warehouse",
            (
                per_hour(f"lvyue_inventory_low_stock_events_total{{{j}}}", "warehouse"),
                "{{warehouse}}",
            ),
            bars=True,
        ),
        timeseries(
            "Exchange replacements held by outcome",
            (
                per_hour(f"lvyue_inventory_replacement_reservations_total{{{j}}}", "outcome"),
                "{{outcome}}",
            ),
            info="short: nothing was held; the replacement ships anyway and the count is "
            "corrected by a stock adjustment.",
            bars=True,
        ),
        timeseries(
            "Slow-moving SKUs flagged per day by warehouse",
            (
                "sum by (warehouse) "
                f"(increase(lvyue_inventory_slow_moving_flagged_total{{{j}}}[1d]))",
                "{{warehouse}}",
            ),
            bars=True,
        ),
    ]
    return dashboard(
        "lvyue-inventory",
        "lvyue / inventory",
        "Reservations, exchange replacements, low stock and slow movers; HTTP; events.",
        panels + service_sections("inventory"),
    )


def fulfilment() -> Json:
    j = 'job="fulfilment"'
    dispatched = f"lvyue_fulfilment_dispatches_total{{{j}}}"
    on_time = f'lvyue_fulfilment_dispatches_total{{{j}, on_time="true"}}'
    by_wp = "sum by (warehouse, platform)"
    panels = [
        row("Shipments"),
        timeseries(
            "Pending shipments by warehouse",
            (f"max by (warehouse) (lvyue_fulfilment_pending_shipments{{{j}}})", "{{warehouse}}"),
            info="Requested, not dispatched; read from the database (max). "
            "LvyueDispatchCutoffAtRisk pages if any are left at 15:00.",
        ),
        timeseries(
            "Shipments requested by priority",
            (
                per_minute(f"lvyue_fulfilment_shipments_requested_total{{{j}}}", "priority"),
                "{{priority}}",
            ),
            unit="opm",
            stack=True,
        ),
        timeseries(
            "On-time dispatch rate by warehouse and platform (24h window)",
            (
                f"{by_wp} (increase({on_time}[24h])) / {by_wp} (increase({dispatched}[24h]))",
                "{{warehouse}} {{platform}}",
            ),
            unit="percentunit",
            info="On time: both outbound_24h and dispatch_1600 were met.",
            limit=1,
            marks=COMPLIANCE,
        ),
        timeseries(
            "Dispatches, and cancellations after dispatch",
            (per_minute(dispatched, "warehouse, on_time"), "{{warehouse}} on time: {{on_time}}"),
            (
                per_minute(f"lvyue_fulfilment_late_cancellations_total{{{j}}}", "warehouse"),
                "{{warehouse}} cancelled after dispatch",
            ),
            unit="opm",
        ),
        row("Tracking sync to the sales platforms"),
        timeseries(
            "Platform API calls by outcome",
            (
                per_minute(f"lvyue_tracking_sync_attempts_total{{{j}}}", "platform, outcome"),
                "{{platform}} {{outcome}}",
            ),
            unit="opm",
        ),
        timeseries(
            "Sync jobs by state",
            (f"max by (state) (lvyue_tracking_syncs{{{j}}})", "{{state}}"),
            info="Read from the database (max).",
        ),
        timeseries(
            "Syncs given up or skipped per hour",
            (
                per_hour(f"lvyue_tracking_syncs_failed_total{{{j}}}", "platform, reason"),
                "{{platform}} failed: {{reason}}",
            ),
            (
                per_hour(f"lvyue_tracking_syncs_skipped_total{{{j}}}", "platform"),
                "{{platform}} skipped: no API configured",
            ),
            size=(24, 8),
            bars=True,
        ),
        row("Logistics exceptions"),
        timeseries(
            "Open exceptions by kind",
            (f"max by (kind) (lvyue_logistics_open_exceptions{{{j}}})", "{{kind}}"),
            info="Parcels flagged delayed or lost and not resolved (max).",
        ),
        timeseries(
            "New exceptions per hour by kind",
            (per_hour(f"lvyue_logistics_exceptions_total{{{j}}}", "kind"), "{{kind}}"),
            bars=True,
        ),
    ]
    return dashboard(
        "lvyue-fulfilment",
        "lvyue / fulfilment",
        "Pending shipments, on-time dispatch, tracking sync, logistics exceptions; HTTP; events.",
        panels + service_sections("fulfilment"),
    )


def aftersales() -> Json:
    j = 'job="aftersales"'
    cases = f"lvyue_aftersales_cases_total{{{j}}}"
    panels = [
        row("Cases and refunds"),
        timeseries(
            "Cases opened by type",
            (per_minute(cases, "type"), "{{type}}"),
            unit="opm",
            stack=True,
        ),
        bargauge(
            "Cases by type and reason in the time range",
            (
                f"sort_desc(sum by (type, reason) (increase({cases}[$__range])))",
                "{{type}}: {{reason}}",
            ),
        ),
        timeseries(
            "Refunds paid per hour",
            (per_hour(f"lvyue_aftersales_refunds_total{{{j}}}", "job"), "refunds"),
            bars=True,
        ),
        timeseries(
            "Money refunded per hour",
            (per_hour(f"lvyue_aftersales_refund_amount_total{{{j}}}", "job"), "refunded"),
            unit="currencyCNY",
        ),
    ]
    return dashboard(
        "lvyue-aftersales",
        "lvyue / aftersales",
        "After-sale cases by type and reason, refunds; HTTP; events.",
        panels + service_sections("aftersales"),
    )


DASHBOARDS: dict[str, Callable[[], Json]] = {
    "lvyue-overview.json": overview,
    "lvyue-order-review.json": order_review,
    "lvyue-inventory.json": inventory,
    "lvyue-fulfilment.json": fulfilment,
    "lvyue-aftersales.json": aftersales,
}


def render(build: Callable[[], Json]) -> str:
    return json.dumps(build(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the lvyue Grafana dashboards.")
    parser.add_argument("--check", action="store_true", help="fail if a committed file differs")
    check = parser.parse_args(argv).check
    stale = []
    for name, build in DASHBOARDS.items():
        path, text = DASHBOARDS_DIR / name, render(build)
        if check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
            continue
        DASHBOARDS_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    if stale:
        print(
            f"out of date: {', '.join(stale)}; run python deploy/grafana/generate.py",
            file=sys.stderr,
        )
        return 1
    if check:
        print(f"{len(DASHBOARDS)} dashboards match {__file__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
