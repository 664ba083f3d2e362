"""Writes the canonical order JSON schema to docs/schemas/; --check fails if it has drifted.

Usage (from the repository root):
    .venv/bin/python scripts/export_schemas.py           # regenerate the file
    .venv/bin/python scripts/export_schemas.py --check   # exit 1 if the file is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lvyue.common.contracts.order import canonical_order_json_schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_PATH = ROOT / "docs" / "schemas" / "canonical-order.schema.json"


def render() -> str:
    """The schema file's exact text: stable key order, UTF-8 kept readable, trailing newline."""
    schema = canonical_order_json_schema()
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 if the file on disk differs from the generated schema",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=SCHEMA_PATH,
        help=f"where the schema lives (default: {SCHEMA_PATH.relative_to(ROOT)})",
    )
    args = parser.parse_args(argv)
    path: Path = args.output
    expected = render()
    if args.check:
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != expected:
            state = "is missing" if current is None else "is out of date"
            print(
                f"{path} {state}; run: python scripts/export_schemas.py",
                file=sys.stderr,
            )
            return 1
        print(f"{path} is up to date")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(expected, encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
