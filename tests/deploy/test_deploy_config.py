"""deploy/: every offline validation passes, and the rules and dashboards query what exists.

The metric checks read the code as text (the prometheus_client constructors in libs/ and
services/), so they also see services that are not importable yet. PyYAML is not a project
dependency: the rules and promtool tests are our own regular YAML, read with a few patterns.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
RULES = DEPLOY / "prometheus" / "rules" / "lvyue-sla.rules.yml"
RULE_TESTS = sorted((DEPLOY / "prometheus" / "tests").glob("*.test.yml"))
RUNBOOK = DEPLOY / "prometheus" / "RUNBOOK.md"
DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))
ALERTMANAGER_CONFIG = DEPLOY / "alertmanager" / "alertmanager.yml"

# Metrics the rules or dashboards query before the code that will define them exists:
# name -> the service expected to add it. Empty: every queried metric is defined today.
EXPECTED_LATER_METRICS: dict[str, str] = {}

# What prometheus_client exposes for a metric of each type (a counter's "_total" is implied).
SUFFIXES = {
    "Counter": ("_total", "_created"),
    "Gauge": ("",),
    "Histogram": ("_bucket", "_count", "_sum", "_created"),
    "Summary": ("", "_count", "_sum", "_created"),
    "Info": ("_info",),
    "Enum": ("",),
}
CONSTRUCTOR = re.compile(r"\b(Counter|Gauge|Histogram|Summary|Info|Enum)\(\s*\"(lvyue_\w+)\"")
# a metric name, not part of a recording rule name such as sla:lvyue_sla_open:max
METRIC = re.compile(r"(?<![\w:])lvyue_[a-z0-9_]+(?![\w:])")
RECORDED = re.compile(r"\b[a-z_]+:[a-z0-9_]+:[a-z0-9_]+\b")


def defined_metrics() -> dict[str, Path]:
    """Every series name the code can expose, with the file that defines it."""
    found: dict[str, Path] = {}
    for path in [*ROOT.glob("libs/*/src/**/*.py"), *ROOT.glob("services/*/src/**/*.py")]:
        for kind, name in CONSTRUCTOR.findall(path.read_text(encoding="utf-8")):
            base = name.removesuffix("_total") if kind == "Counter" else name
            for suffix in SUFFIXES[kind]:
                found[base + suffix] = path.relative_to(ROOT)
    return found


def yaml_values(text: str, key: str) -> list[str]:
    """Values of `key:` in our YAML: inline, or a block scalar (| or >) below it."""
    lines = text.splitlines()
    pattern = re.compile(rf"^(\s*)(?:- )?{key}: ?(.*)$")
    values = []
    for i, line in enumerate(lines):
        match = pattern.match(line)
        if not match:
            continue
        indent, value = len(match[1]), match[2].strip()
        if value in {"|", "|-", ">", ">-"}:
            block = []
            for following in lines[i + 1 :]:
                if following.strip() and len(following) - len(following.lstrip()) <= indent:
                    break
                block.append(following.strip())
            value = ("\n" if value.startswith("|") else " ").join(block).strip()
        values.append(value.strip("'\""))
    return values


def rule_blocks(kind: str) -> dict[str, str]:
    """Rule name -> its YAML text, for `kind` alert or record."""
    text = RULES.read_text(encoding="utf-8")
    starts = [m.start() for m in re.finditer(r"^\s*- (?:alert|record|name): ", text, re.M)]
    blocks = [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]
    named = (re.match(rf"\s*- {kind}: (\S+)", block) for block in blocks)
    return {m[1]: block for m, block in zip(named, blocks, strict=True) if m}


def dashboard_expressions() -> Iterator[tuple[str, str]]:
    """(dashboard file, PromQL) for every panel target and query variable's selector."""
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text(encoding="utf-8"))
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                yield path.name, target["expr"]
        for variable in dashboard["templating"]["list"]:
            if variable["type"] == "query":  # Grafana's label_values(<selector>, <label>)
                yield (
                    path.name,
                    re.sub(r"^label_values\((.+), \w+\)$", r"\1", variable["definition"]),
                )


def queried() -> Iterator[tuple[str, str]]:
    """(where, PromQL) for every expression of the rules file and the dashboards."""
    for expr in yaml_values(RULES.read_text(encoding="utf-8"), "expr"):
        yield RULES.name, expr
    yield from dashboard_expressions()


@pytest.mark.timeout(600)  # promtool evaluates days of test data
def test_deploy_check_script_passes() -> None:
    result = subprocess.run(
        ["bash", str(DEPLOY / "check.sh")], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_queried_metric_is_defined_in_the_code() -> None:
    defined = defined_metrics()
    missing = {
        (name, where)
        for where, expr in queried()
        for name in METRIC.findall(expr)
        if name not in defined and name not in EXPECTED_LATER_METRICS
    }
    assert not missing, f"queried but defined nowhere in libs/ or services/: {sorted(missing)}"


def test_expected_later_metrics_are_still_queried() -> None:
    used = {name for _, expr in queried() for name in METRIC.findall(expr)}
    assert set(EXPECTED_LATER_METRICS) <= used, "drop unused names from EXPECTED_LATER_METRICS"
    arrived = sorted(set(EXPECTED_LATER_METRICS) & set(defined_metrics()))
    if arrived:
        warnings.warn(f"now defined, drop from EXPECTED_LATER_METRICS: {arrived}", stacklevel=1)


def test_every_recording_rule_used_is_recorded() -> None:
    recorded = set(rule_blocks("record"))
    used = {(name, where) for where, expr in queried() for name in RECORDED.findall(expr)}
    assert {name for name, _ in used} <= recorded, sorted(u for u in used if u[0] not in recorded)


def test_every_alert_has_severity_summary_description_and_a_runbook_section() -> None:
    alerts = rule_blocks("alert")
    sections = set(re.findall(r"^## (\w+)$", RUNBOOK.read_text(encoding="utf-8"), re.M))
    assert len(alerts) >= 11
    for name, block in alerts.items():
        assert yaml_values(block, "severity") in (["page"], ["ticket"]), name
        assert all(yaml_values(block, key) != [""] for key in ("summary", "description")), name
        assert len(yaml_values(block, "summary")) == 1, name
        assert yaml_values(block, "runbook_url") == [
            f"deploy/prometheus/RUNBOOK.md#{name.lower()}"
        ], name
        assert name in sections, f"no '## {name}' section in {RUNBOOK.name}"


def test_every_alert_has_unit_tests_that_fire_it_and_keep_it_quiet() -> None:
    case = re.compile(r"alertname: (\w+)\n\s+exp_alerts:( \[\])?")
    firing: set[str] = set()
    quiet: set[str] = set()
    for path in RULE_TESTS:
        for name, empty in case.findall(path.read_text(encoding="utf-8")):
            (quiet if empty else firing).add(name)
    alerts = set(rule_blocks("alert"))
    assert alerts - firing == set(), "alerts no test fires"
    assert alerts - quiet == set(), "alerts without a must-not-fire test"


def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    """promtool parses each query as a recording rule (Grafana's variables filled in)."""
    grafana = {"$__rate_interval": "1m", "$__range": "1d", "$sla": ".+", "${datasource}": ""}
    rules = ["groups:", "  - name: dashboards", "    rules:"]
    for number, (_, expr) in enumerate(dashboard_expressions()):
        for variable, value in grafana.items():
            expr = expr.replace(variable, value)
        rules += [f"      - record: dashboard:query:{number}", f"        expr: {json.dumps(expr)}"]
    path = tmp_path / "dashboards.rules.yml"
    path.write_text("\n".join(rules) + "\n", encoding="utf-8")
    promtool = shutil.which("promtool")
    assert promtool, "promtool not found: apt-get install prometheus"
    result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _alertmanager_api(base: str, path: str, payload: object | None = None) -> object:
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(
        base + path, data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        body = response.read()
    is_json = response.headers.get_content_type() == "application/json"
    return json.loads(body) if body and is_json else body


@pytest.mark.timeout(60)
def test_a_page_inhibits_the_tickets_of_its_own_sla_only(tmp_path: Path) -> None:
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    assert binary, "alertmanager not found: apt-get install prometheus-alertmanager"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={ALERTMANAGER_CONFIG}",
            f"--storage.path={tmp_path}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _alertmanager_api(base, "/-/ready")
                break
            except OSError:
                assert time.monotonic() < deadline, "alertmanager did not start"
                time.sleep(0.2)
        alerts = [
            {"alertname": "LvyueSLAFastBurn", "severity": "page", "sla": "refund_48h"},
            {"alertname": "LvyueSLABudgetErosion", "severity": "ticket", "sla": "refund_48h"},
            {"alertname": "LvyueSLABudgetErosion", "severity": "ticket", "sla": "outbound_24h"},
            {"alertname": "LvyueOutboxStuck", "severity": "page", "job": "inventory"},
            {"alertname": "LvyueConsumerLagHigh", "severity": "ticket", "job": "inventory"},
        ]
        _alertmanager_api(base, "/api/v2/alerts", [{"labels": labels} for labels in alerts])
        inhibited: set[tuple[str, str]] = set()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            state = _alertmanager_api(base, "/api/v2/alerts")
            assert isinstance(state, list)
            if len(state) == len(alerts):
                inhibited = {
                    (a["labels"]["alertname"], a["labels"].get("sla", ""))
                    for a in state
                    if a["status"]["inhibitedBy"]
                }
                break
            time.sleep(0.2)
        assert inhibited == {("LvyueSLABudgetErosion", "refund_48h")}
    finally:
        process.terminate()
        process.wait(timeout=10)
