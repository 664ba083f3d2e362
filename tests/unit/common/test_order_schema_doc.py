"""The committed order schema and the format doc match CanonicalOrder, so they cannot drift."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lvyue.common.contracts.order import canonical_order_json_schema

ROOT = Path(__file__).parents[3]
SCHEMA_FILE = ROOT / "docs" / "schemas" / "canonical-order.schema.json"
FORMAT_DOC = ROOT / "docs" / "order-format.md"
EXPORT_SCRIPT = ROOT / "scripts" / "export_schemas.py"

DOCUMENTED_FIELDS = (
    "platform",
    "shop_id",
    "platform_order_id",
    "buyer_id",
    "receiver",
    "lines",
    "amounts",
    "paid_at",
    "urgent",
    "promotion",
    "remarks",
)


def export(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXPORT_SCRIPT), *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=60,
    )


@pytest.fixture(scope="module")
def committed() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return data


def test_committed_schema_equals_the_generated_schema(committed: dict[str, Any]) -> None:
    assert committed == canonical_order_json_schema(), (
        "docs/schemas/canonical-order.schema.json is stale: run scripts/export_schemas.py"
    )


def test_export_check_passes_on_the_committed_file() -> None:
    result = export("--check")
    assert result.returncode == 0, result.stderr


def test_export_writes_exactly_the_committed_text(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    assert export("--output", str(target)).returncode == 0
    text = target.read_text(encoding="utf-8")
    assert text == SCHEMA_FILE.read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert "省/直辖市" in text  # ensure_ascii=False keeps Chinese readable


@pytest.mark.parametrize(
    ("content", "state"),
    [(None, "is missing"), ("{}\n", "is out of date")],
)
def test_export_check_fails_on_a_missing_or_stale_file(
    tmp_path: Path, content: str | None, state: str
) -> None:
    target = tmp_path / "schema.json"
    if content is not None:
        target.write_text(content, encoding="utf-8")
    result = export("--check", "--output", str(target))
    assert result.returncode == 1
    assert state in result.stderr
    assert "export_schemas.py" in result.stderr
    if content is None:
        assert not target.exists()  # --check never writes
    else:
        assert target.read_text(encoding="utf-8") == content


@pytest.mark.parametrize("field", DOCUMENTED_FIELDS)
def test_schema_names_each_documented_field(committed: dict[str, Any], field: str) -> None:
    assert field in committed["properties"]


def test_schema_requires_what_the_doc_says_is_required(committed: dict[str, Any]) -> None:
    assert set(committed["required"]) == {
        "platform",
        "shop_id",
        "platform_order_id",
        "receiver",
        "lines",
        "amounts",
        "paid_at",
    }


def _all_field_names(schema: dict[str, Any]) -> set[str]:
    names = set(schema["properties"])
    for definition in schema.get("$defs", {}).values():
        names |= set(definition.get("properties", {}))
    return names


def test_format_doc_names_every_field_of_the_schema(committed: dict[str, Any]) -> None:
    doc = FORMAT_DOC.read_text(encoding="utf-8")
    missing = sorted(name for name in _all_field_names(committed) if f"`{name}`" not in doc)
    assert not missing, f"docs/order-format.md does not document: {missing}"
