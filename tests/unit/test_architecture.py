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
    """`lvyue.order_review.api.orders` -> "order_review"; None outside lvyue."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "lvyue" else None


def test_there_are_five_services_and_a_kernel_to_check() -> None:
    assert set(SERVICES) == {"order_review", "inventory", "fulfilment", "aftersales", "console"}
    assert (KERNEL / "__init__.py").exists()


# The console is pages over the other services' HTTP APIs: no database, no broker of its own.
_STORAGE = {"sqlalchemy", "asyncpg", "aiokafka", "alembic"}


def test_the_console_reaches_no_database_and_no_broker() -> None:
    wrong = {
        f"{module.relative_to(ROOT)}: {name}"
        for module in _modules(SERVICES["console"])
        for name in _imports(module)
        if name.split(".")[0] in _STORAGE
    }
    assert wrong == set()


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


# FastAPI belongs to the HTTP layer: api/ or a feature's api.py, and the modules that build the
# app (main.py) or wire a feature's routers into it (wiring.py).
_HTTP_LAYER = {"api", "api.py", "main.py", "wiring.py"}
# SQLAlchemy's statement builders belong to repositories (and to the table definitions).
_SQL_BUILDERS = {"select", "insert", "update", "delete", "text", "func", "case", "bindparam"}
_SQL_LAYER = {"repository", "repository.py", "tables.py"}


def _from_imports(module: Path) -> Iterator[tuple[str, set[str]]]:
    for node in ast.walk(ast.parse(module.read_text(), filename=str(module))):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module, {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, set()


def _in_layer(module: Path, package: Path, layer: set[str]) -> bool:
    return bool(layer & set(module.relative_to(package).parts))


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_only_the_http_layer_imports_fastapi(service: str) -> None:
    package = SERVICES[service]
    wrong = {
        str(module.relative_to(package))
        for module in _modules(package)
        if not _in_layer(module, package, _HTTP_LAYER)
        for name, _ in _from_imports(module)
        if name.split(".")[0] in {"fastapi", "starlette"}
    }
    assert wrong == set()


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_only_repositories_build_sql(service: str) -> None:
    package = SERVICES[service]
    wrong = {
        f"{module.relative_to(package)}: {', '.join(sorted(names & _SQL_BUILDERS))}"
        for module in _modules(package)
        if not _in_layer(module, package, _SQL_LAYER)
        for name, names in _from_imports(module)
        if name.split(".")[0] == "sqlalchemy" and names & _SQL_BUILDERS
    }
    assert wrong == set()
