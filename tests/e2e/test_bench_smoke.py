"""`lvyue bench --quick` end to end: the stack starts, orders flow, the scanner fires once per
deadline, and the JSON report carries every section with zero errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lvyue.cli.bench import summary
from lvyue.cli.bench.report import TARGETS

REPORT_KEYS = {"meta", "options", "services", "pipeline", "idle_cpu_cores", "phases", "ceiling",
               "scanner", "ratios", "targets", "notes"}  # fmt: skip


@pytest.mark.timeout(240)
def test_quick_bench_writes_a_complete_report_without_errors(tmp_path: Path) -> None:
    output = tmp_path / "report.json"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"} and not k.startswith("LVYUE_")
    }
    run = subprocess.run(
        [
            sys.executable, "-m", "lvyue.cli", "bench", "--quick", "--skip-ceiling",
            "--duration", "3", "--output", str(output), "--state-dir", str(tmp_path / "bench"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=200,
    )  # fmt: skip
    run_log = tmp_path / "bench" / "run.log"
    assert run.returncode == 0, "\n".join(
        (run.stdout[-3000:], run.stderr[-3000:], "run.log:", _tail(run_log))
    )
    assert output.exists(), run.stdout[-2000:]
    report = json.loads(output.read_text())
    assert set(report) >= REPORT_KEYS

    phase = report["phases"]["throughput"]
    assert phase["errors"] == {}
    assert phase["intake"]["sent"] > 0
    assert phase["intake"]["accepted"] == phase["intake"]["sent"]
    assert phase["completed"] == phase["intake"]["accepted"]
    assert phase["final_topic"] == report["pipeline"][-1]
    assert {"http_intake", "created→reserved", "reserved→reviewed", "end_to_end"} <= set(
        phase["latency"]
    )
    assert phase["latency"]["end_to_end"]["count"] == phase["completed"]
    processes = phase["resources"]["processes"]
    assert {"order-review", "inventory", "bench"} <= set(processes)
    assert processes["order-review"]["cpu_ms_per_order"] > 0

    assert report["ceiling"] is None
    firing = report["scanner"]["firing"]
    assert firing["double_fires"] == 0
    assert firing["missed"] == 0
    assert firing["breached"] == report["scanner"]["due"] == 2000
    assert [p["open_deadlines"] for p in report["scanner"]["scan_cost"]] == [10_000, 20_000]

    keys = {t["key"] for t in report["targets"]}
    assert {t.key for t in TARGETS} <= keys
    assert report["targets"] == summary.verdicts(report, latency_rate=0)
    assert "report:" in run.stdout


def _tail(path: Path, chars: int = 4000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else "(none)"
