"""Database URLs: every PostgreSQL spelling becomes the asyncpg one; other databases are refused.
JSONB values: written as the standard library would mean them."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.engine import make_url

from lvyue.common.db import asyncpg_url, json_text, with_database


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://app:pw@db:5432/orders", "postgresql+asyncpg://app:pw@db:5432/orders"),
        ("postgresql://app:pw@db:5432/orders", "postgresql+asyncpg://app:pw@db:5432/orders"),
        ("postgresql+asyncpg://app@db/orders", "postgresql+asyncpg://app@db/orders"),
        ("postgresql+psycopg://app@db/orders", "postgresql+asyncpg://app@db/orders"),
        ("postgresql://db/orders", "postgresql+asyncpg://db/orders"),
    ],
)
def test_asyncpg_url_accepts_every_postgresql_spelling(given: str, expected: str) -> None:
    assert asyncpg_url(given) == expected


def test_asyncpg_url_is_idempotent() -> None:
    once = asyncpg_url("postgres://app:pw@db:5432/orders")
    assert asyncpg_url(once) == once


@pytest.mark.parametrize(
    "given",
    [
        "postgresql+asyncpg://app@/orders?host=/tmp/x",
        "postgresql://app@/orders?host=/tmp/x",
        "postgres:///orders?host=/tmp/x",
    ],
)
def test_asyncpg_url_keeps_a_unix_socket_host(given: str) -> None:
    url = make_url(asyncpg_url(given))
    assert url.drivername == "postgresql+asyncpg"
    assert url.database == "orders"
    assert url.host is None
    assert url.query["host"] == "/tmp/x"


def test_asyncpg_url_keeps_a_password_with_special_characters() -> None:
    url = make_url(asyncpg_url("postgresql://app:p%40ss%2Fw0rd@db/orders"))
    assert url.password == "p@ss/w0rd"


def test_asyncpg_url_refuses_an_empty_url() -> None:
    with pytest.raises(ValueError, match="DATABASE_URL is empty"):
        asyncpg_url("")


@pytest.mark.parametrize(
    ("given", "backend"),
    [
        ("mysql://app@db/orders", "mysql"),
        ("mysql+aiomysql://app@db/orders", "mysql"),
        ("sqlite:///orders.db", "sqlite"),
        ("sqlite+aiosqlite:///:memory:", "sqlite"),
    ],
)
def test_asyncpg_url_refuses_other_databases_naming_what_it_got(given: str, backend: str) -> None:
    with pytest.raises(ValueError, match=f"must point at PostgreSQL, got '{backend}'"):
        asyncpg_url(given)


@pytest.mark.parametrize(
    "given",
    [
        "postgresql://app:pw@db:6432/orders?sslmode=require",
        "postgres://app:pw@db:6432/orders?sslmode=require",
    ],
)
def test_with_database_swaps_the_database_only(given: str) -> None:
    original = make_url(asyncpg_url(given))
    swapped = make_url(with_database(given, "billing"))
    assert swapped.database == "billing"
    assert swapped.drivername == "postgresql+asyncpg"
    assert (swapped.username, swapped.password, swapped.host, swapped.port, swapped.query) == (
        original.username,
        original.password,
        original.host,
        original.port,
        original.query,
    )


def test_with_database_keeps_a_unix_socket_host() -> None:
    swapped = make_url(with_database("postgresql://app@/orders?host=/tmp/x", "t_1234"))
    assert swapped.database == "t_1234"
    assert swapped.query["host"] == "/tmp/x"


def test_with_database_refuses_a_non_postgresql_url() -> None:
    with pytest.raises(ValueError, match="PostgreSQL"):
        with_database("mysql://app@db/orders", "billing")


@pytest.mark.parametrize(
    "value",
    [
        {"receiver": {"name": "张三", "address": "文三路 1 号"}, "lines": [{"sku": "A", "qty": 2}]},
        {7: "int key", None: "null key", False: "bool key", 2.5: "float key"},
        [1.5, -0, 2**63 - 1, "\u0000\u2028", {"nested": [[], {}]}],
        "plain text",
    ],
)
def test_jsonb_values_are_written_as_the_standard_library_reads_them(value: object) -> None:
    """orjson writes the JSONB columns: what it writes is what json.dumps would have meant."""
    written = json_text(value)
    assert isinstance(written, str)
    assert json.loads(written) == json.loads(json.dumps(value))
