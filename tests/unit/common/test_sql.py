"""Array parameters: one statement text whatever the number of values or rows."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest
from sqlalchemy import BigInteger, Column, MetaData, Table, Text, Uuid, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB, insert

from lvyue.common.sql import any_of, row_arrays, unnest_rows

DIALECT = postgresql.asyncpg.dialect()

things = Table(
    "things",
    MetaData(),
    Column("id", Uuid, primary_key=True),
    Column("seq", BigInteger),
    Column("name", Text),
    Column("body", JSONB),
)


def _sql(statement: Any) -> str:
    return str(statement.compile(dialect=DIALECT))


def _params(statement: Any) -> dict[str, Any]:
    return dict(statement.compile(dialect=DIALECT).params)


@pytest.mark.parametrize("values", [[1], [1, 2, 3], list(range(500))])
def test_any_of_renders_one_text_for_every_length(values: list[int]) -> None:
    statement = select(things.c.id).where(any_of(things.c.seq, values))

    assert _sql(statement) == _sql(select(things.c.id).where(any_of(things.c.seq, [7])))
    assert "things.seq = ANY ($1::BIGINT[])" in _sql(statement)
    assert list(_params(statement).values()) == [values]


def test_any_of_twice_on_one_statement_keeps_two_parameters() -> None:
    statement = select(things.c.id).where(any_of(things.c.seq, [1]), any_of(things.c.name, ["a"]))

    assert sorted(map(str, _params(statement).values())) == ["['a']", "[1]"]


def test_any_of_without_values_is_bound_at_execution_by_name() -> None:
    statement = select(things.c.id).where(any_of(things.c.id, name="ids"))

    assert "ids" in _params(statement)
    with pytest.raises(ValueError, match="name"):
        any_of(things.c.id)


def test_unnest_rows_inserts_rows_as_one_array_per_column() -> None:
    columns = [things.c.id, things.c.name, things.c.body]
    statement = insert(things).from_select(columns, unnest_rows(columns))
    sql = _sql(statement)

    assert "unnest($1::UUID[], $2::TEXT[], $3::TEXT[])" in sql
    assert "CAST(anon_1.body AS JSONB)" in sql
    first, second = uuid.uuid4(), uuid.uuid4()
    rows: list[dict[str, Any]] = [
        {"id": first, "name": "a", "body": {"lines": [1]}, "seq": 5},
        {"id": second, "name": None, "body": [], "seq": 6},
    ]
    arrays = row_arrays(columns, rows)
    assert arrays == {
        "id": [first, second],
        "name": ["a", None],
        "body": ['{"lines":[1]}', "[]"],  # JSON as text, cast back by the statement
    }
    assert [orjson.loads(text) for text in arrays["body"]] == [{"lines": [1]}, []]
