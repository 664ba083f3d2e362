"""`lvyue chaos`, a short seeded run: 240 signed orders (10% delivered twice), one kill -9 of a
service, of PostgreSQL and of the broker; every accepted order exactly once in every service,
stock arithmetic consistent, no duplicate, no dead letter, within 4 minutes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ORDERS = 240
SEED = 13


@pytest.mark.timeout(240)
def test_a_short_seeded_chaos_run_finds_every_order_exactly_once(tmp_path: Path) -> None:
    result_path = tmp_path / "chaos.json"
    run = subprocess.run(
        [
            sys.executable, "-m", "lvyue.cli", "chaos",
            "--orders", str(ORDERS), "--seed", str(SEED), "--duplicate-rate", "0.1",
            "--faults", "service=1,postgres=1,broker=1", "--rate", "25",
            "--timeout", "170", "--state-dir", str(tmp_path / "run"), "--json", str(result_path),
        ],
        capture_output=True,
        text=True,
        timeout=235,
        check=False,
    )  # fmt: skip
    output = run.stdout[-6000:] + run.stderr[-3000:]
    assert result_path.exists(), output
    result = json.loads(result_path.read_text())
    facts = result["facts"]
    assert run.returncode == 0, (result["violations"], result["not_shipped"], output)
    assert [f["kind"] for f in sorted(result["injected"], key=lambda f: f["kind"])] == [
        "broker", "postgres", "service",
    ]  # fmt: skip
    assert all(f["intake_2xx_s"] is not None for f in result["injected"]), result["injected"]
    accepted = facts["accepted"]
    assert accepted == facts["posted"] >= ORDERS
    for key in ("review_once", "review_shipped", "inventory_shipped", "shipment_once",
                "shipped_event_once"):  # fmt: skip
        assert facts[key] == accepted, key
    assert facts["lines_reserved_deducted_once"] == facts["lines"]
    assert facts["stock_consistent"] == facts["stock_skus"] > 0
    assert facts["redeliveries"] > 0
    assert facts["redeliveries_same_order"] == facts["redeliveries"]
    for key in ("staged_twice", "unconsumed", "deadlines_twice", "breaches_twice", "dead_letters",
                "topic_orders_twice", "topic_dead_letters", "stock_negative",
                "review_unacknowledged", "outbox_unsent"):  # fmt: skip
        assert facts[key] == 0, key
    assert {c["key"] for c in result["checks"] if not c["ok"]} == set()
