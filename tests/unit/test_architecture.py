"""The house plan's boundaries (docs/architecture.md), read from the imports of every module:
the kernel imports no service, a service imports no other service, inside a service only the
HTTP layer (api/, and main.py that builds the app) imports FastAPI, and only repositories (and
the tables and migrations that define them) import SQLAlchemy's statement builders."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KERNEL = ROOT / "libs" / "common" / "src" / "lvyue" / "common"
SERVICES = {
    path.name: path
    for path in sorted((ROOT / "services").glob("*/src/lvyue/*"))
    if path.is_dir() and (path / "__init__.py").exists()
}


def _modules(package: Path) -> Iterator[Path]:
    yield from sorted(p for p in package.rglob("*.py") if "migrations" not in p.parts)


def _imports(module: Path) -> set[str]:
    """Every module name imported (a relative import stays inside its own package).
    Imports inside functions count too: a late import crosses a boundary all the same."""
    tree = ast.parse(module.read_text(), filename=str(module))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # from .base import x: inside the module's own package
                found.add(f"<relative>.{node.module or ''}")
            elif node.module:
                found.add(node.module)
    return found


def _lvyue_package(name: str) -> str | None:
    """`lvyue.order_review.api` -> "order_review"; None outside lvyue."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "lvyue" else None


def test_there_are_four_services_and_a_kernel_to_check() -> None:
    assert set(SERVICES) == {"order_review", "inventory", "fulfilment", "aftersales"}
    assert (KERNEL / "__init__.py").exists()


def test_the_kernel_imports_no_service_and_not_the_command_line() -> None:
    wrong = {
        f"{module.relative_to(ROOT)}: {name}"
        for module in _modules(KERNEL)
        for name in _imports(module)
        if _lvyue_package(name) not in (None, "common")
    }
    assert wrong == set()


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_a_service_imports_the_kernel_and_itself_only(service: str) -> None:
    wrong = {
        f"{module.relative_to(ROOT)}: {name}"
        for module in _modules(SERVICES[service])
        for name in _imports(module)
        if _lvyue_package(name) not in (None, "common", service)
    }
    assert wrong == set()
