"""SQL expressions the repositories share: lists and rows passed as array parameters, and the
batch delete of a pruning.

`column IN (:a, :b, ...)` renders one statement text per list length, and PostgreSQL parses
and plans each text again while asyncpg's cache of prepared statements (100 per connection)
churns through them: a batch consumer sees every length from 1 to its poll size. An array
parameter keeps one text, prepared once per connection, whatever the length.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    Column,
    Delete,
    Select,
    Table,
    Text,
    any_,
    bindparam,
    cast,
    delete,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.sql.elements import ColumnElement

from lvyue.common.db import json_text


def any_of(
    column: ColumnElement[Any], values: Iterable[Any] | None = None, *, name: str | None = None
) -> ColumnElement[bool]:
    """`column = ANY(:array)`, the array typed as the column. With `values`, they are bound
    here; without, the statement is built once and `name` is given its list at execution."""
    array = ARRAY(column.type)
    if values is None:
        if name is None:
            raise ValueError("a statement built without values needs the parameter's name")
        return column == any_(bindparam(name, type_=array))
    return column == any_(
        bindparam(name or f"{column.key}_list", list(values), type_=array, unique=True)
    )


def unnest_rows(columns: Sequence[Column[Any]]) -> Select[Any]:
    """`SELECT * FROM unnest(:a, :b, ...)`, one array parameter per column, named and typed as
    the column (JSONB travels as text and is cast back): for `insert(...).from_select`, so
    a batch of rows is one statement text whatever its size, where a multi-row VALUES (or
    an executemany with RETURNING) renders one per size. Bind with `row_arrays`."""
    arrays = (
        func.unnest(
            *(bindparam(c.key, type_=ARRAY(Text if _is_json(c) else c.type)) for c in columns)
        )
        .table_valued(*(c.key for c in columns))
        .render_derived()
    )
    return select(
        *(cast(arrays.c[c.key], JSONB) if _is_json(c) else arrays.c[c.key] for c in columns)
    )


def row_arrays(
    columns: Sequence[Column[Any]], rows: Sequence[Mapping[str, Any]]
) -> dict[str, list[Any]]:
    """The parameters of `unnest_rows(columns)`: each column's values across the rows."""
    return {
        c.key: [json_text(row[c.key]) if _is_json(c) else row[c.key] for row in rows]
        for c in columns
    }


def _is_json(column: Column[Any]) -> bool:
    return isinstance(column.type, JSONB)


def delete_first(
    table: Table, where: ColumnElement[bool], *, order_by: ColumnElement[Any], limit: int
) -> Delete:
    """Deletes up to `limit` rows of `table` matching `where`, the first by `order_by`, each
    locked first and those another transaction holds passed by (SKIP LOCKED): a batch of a
    pruning. The rows are named by their ctid, which PostgreSQL deletes by a TID scan; named
    by their key (`key IN (SELECT key ...)`) it hash-joined the whole table for every batch."""
    ctid: ColumnElement[Any] = literal_column("ctid")
    first = (
        select(ctid)
        .select_from(table)
        .where(where)
        .order_by(order_by)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return delete(table).where(ctid == any_(func.array(first.scalar_subquery())))
