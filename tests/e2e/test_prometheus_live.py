"""A real Prometheus scrapes the whole system (`lvyue run`): a breached SLA reaches the
breach counter and the repo's recording rules, and every service's /metrics passes
`promtool check metrics` without carrying ids as label values.

The system, one breach and Prometheus are shared by the module: starting them once is most
of the time these tests take. Prometheus is the Debian binary (apt-get install prometheus),
scraping every second with the rule file of deploy/prometheus/rules evaluated every second.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from lvyue.cli.embedded import free_port, free_port_block
from lvyue.cli.services import PORT_BLOCK, SERVICES, process_urls
from lvyue.common.settings import DEV_WEBHOOK_SECRET
from tests.support.processes import start_lvyue_run, stop, wait_http
from tests.support.webhooks import canonical_sample, lvyue_headers

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "rules" / "lvyue-sla.rules.yml"
BREACHED_SLA = "review_by_0900"
QUERY_TIMEOUT_S = 30.0

# A label value that is (or embeds) a UUID, with or without dashes: an order, event or
# request id. Such labels make one series per order and are forbidden (ARCHITECTURE.md).
UUID_LIKE = re.compile(
    r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.IGNORECASE
)
# name{label="value",...} value  (text exposition format 0.0.4; values are escaped with \)
LABELS = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class LiveSystem:
    services: dict[str, str]  # process name -> base URL (order-review has two processes)
    prometheus: str
    promtool: str


def _config(services: dict[str, str]) -> str:
    """prometheus.yml for the test: the deploy job names (one per service, every process of
    the service a target), static targets, 1 s everything."""
    jobs = "".join(
        f"  - job_name: {spec.name}\n"
        f"    metrics_path: /metrics\n"
        f"    static_configs:\n"
        f"      - targets: {json.dumps(_targets(spec.name, services))}\n"
        for spec in SERVICES
    )
    return (
        "global:\n"
        "  scrape_interval: 1s\n"
        "  scrape_timeout: 1s\n"
        "  evaluation_interval: 1s\n"
        f"rule_files:\n  - {json.dumps(str(RULES))}\n"
        f"scrape_configs:\n{jobs}"
    )


def _targets(service: str, services: dict[str, str]) -> list[str]:
    return [
        url.removeprefix("http://")
        for name, url in services.items()
        if name in {service, f"{service} consumers"}
    ]


def _post_breaching_order(review: str) -> str:
    """An order paid two days ago: its review_by_0900 deadline (09:00 the day after payment)
    is past due at intake, so the scanner (or the review closing it late) breaches it."""
    order = canonical_sample()
    order.update(
        remarks="",
        platform_order_id=uuid.uuid4().hex,
        paid_at=(datetime.now(UTC) - timedelta(days=2)).isoformat(),
    )
    body = json.dumps(order).encode()
    response = httpx.post(
        f"{review}/webhooks/lvyue/orders",
        content=body,
        headers=lvyue_headers(body, DEV_WEBHOOK_SECRET),
        timeout=10.0,
    )
    assert response.status_code == 201, response.text
    order_id: str = response.json()["order_id"]
    return order_id


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSystem]:
    prometheus_bin = shutil.which("prometheus")
    promtool = shutil.which("promtool")
    assert prometheus_bin, "prometheus not found: apt-get install prometheus"
    assert promtool, "promtool not found: apt-get install prometheus"
    tmp = tmp_path_factory.mktemp("prometheus-live")
    base_port = free_port_block(PORT_BLOCK)
    services = process_urls("127.0.0.1", base_port)
    run_log = tmp / "run.log"
    run = start_lvyue_run(tmp / "state", free_port(), base_port, run_log)
    prometheus_port = free_port()
    prometheus_url = f"http://127.0.0.1:{prometheus_port}"
    (tmp / "prometheus.yml").write_text(_config(services))
    prometheus_log = tmp / "prometheus.log"
    prometheus: subprocess.Popen[bytes] | None = None
    try:
        with prometheus_log.open("ab") as out:
            prometheus = subprocess.Popen(
                [
                    prometheus_bin,
                    f"--config.file={tmp / 'prometheus.yml'}",
                    f"--storage.tsdb.path={tmp / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{prometheus_port}",
                    "--storage.tsdb.retention.time=1d",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_http(f"{prometheus_url}/-/ready", timeout_s=30, process=prometheus)
        for url in services.values():
            wait_http(f"{url}/readyz", timeout_s=60, process=run)
        _post_breaching_order(services["order-review"])
        yield LiveSystem(services, prometheus_url, promtool)
    finally:
        failures: list[str] = []
        if prometheus is not None and stop(prometheus, timeout_s=15) not in {0, -signal.SIGTERM}:
            failures.append("prometheus: " + prometheus_log.read_text()[-2000:])
        if stop(run, signal.SIGINT, timeout_s=60) != 0:
            failures.append("lvyue run: " + run_log.read_text()[-3000:])
        assert not failures, "\n".join(failures)


def _query(prometheus: str, promql: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{prometheus}/api/v1/query", params={"query": promql}, timeout=5.0)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def _poll(prometheus: str, promql: str, accept: Any, what: str) -> list[dict[str, Any]]:
    """Queries until `accept(result)`; fails with the last result after QUERY_TIMEOUT_S."""
    deadline = time.monotonic() + QUERY_TIMEOUT_S
    while True:
        result = _query(prometheus, promql)
        if accept(result):
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: {promql} not there in {QUERY_TIMEOUT_S}s: {result}")
        time.sleep(0.5)


def test_prometheus_scrapes_every_service(live: LiveSystem) -> None:
    promql = 'up{job=~"order-review|inventory|fulfilment|aftersales"} == 1'
    result = _poll(
        live.prometheus, promql, lambda r: len(r) == len(live.services), "all targets up"
    )
    assert {series["metric"]["job"] for series in result} == {spec.name for spec in SERVICES}


def test_a_breach_reaches_the_counter_and_the_recording_rules(live: LiveSystem) -> None:
    breached = _poll(
        live.prometheus,
        f'lvyue_sla_deadlines_breached_total{{sla="{BREACHED_SLA}"}}',
        lambda r: any(float(s["value"][1]) >= 1 for s in r),
        "breach counter",
    )
    assert {s["metric"]["job"] for s in breached} == {"order-review"}, breached

    # Recorded by lvyue-sla-ratios-5m from the rule file: present (0 or more) once the breach
    # counter has two samples, and the closed-deadline rate that builds on it likewise.
    for record in (
        "sla:lvyue_sla_deadlines_breached:rate5m",
        "sla:lvyue_sla_deadlines_closed:rate5m",
    ):
        recorded = _poll(
            live.prometheus,
            f'{record}{{sla="{BREACHED_SLA}"}}',
            lambda r: len(r) == 1,
            "recording rule",
        )
        assert float(recorded[0]["value"][1]) >= 0, recorded


def _label_values(exposition: str) -> Iterator[tuple[str, str, str]]:
    for line in exposition.splitlines():
        if not line or line.startswith("#") or "{" not in line:
            continue
        name, _, rest = line.partition("{")
        labels = rest.rpartition("}")[0]
        for label, value in LABELS.findall(labels):
            yield name, label, value


@pytest.mark.parametrize("service", list(process_urls("127.0.0.1", None)))
def test_metrics_exposition_passes_promtool_and_has_no_ids(live: LiveSystem, service: str) -> None:
    response = httpx.get(f"{live.services[service]}/metrics", timeout=5.0)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain"), response.headers
    exposition = response.text
    assert "lvyue_" in exposition

    lint = subprocess.run(
        [live.promtool, "check", "metrics"],
        input=exposition.encode(),
        capture_output=True,
        timeout=30,
        check=False,
    )
    problems = (lint.stdout + lint.stderr).decode().strip()
    assert not problems, f"promtool check metrics on {service}:\n{problems}"
    assert lint.returncode == 0, f"promtool check metrics on {service}: exit {lint.returncode}"

    ids = sorted(
        {(n, label, v) for n, label, v in _label_values(exposition) if UUID_LIKE.search(v)}
    )
    assert not ids, f"{service} exposes ids as label values: {ids[:10]}"
