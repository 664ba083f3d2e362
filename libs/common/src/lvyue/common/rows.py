"""Rows to records: the repositories' records are frozen dataclasses whose fields are named
as their table's columns, so a row maps to one by name, and only what needs converting (an
enum, a nested value object) is spelled out."""

from __future__ import annotations

import functools
from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Record = TypeVar("Record", bound="DataclassInstance")


@functools.cache
def _names(cls: type[DataclassInstance]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def from_row(cls: type[Record], row: Any, **given: Any) -> Record:
    """`cls` from `row`: the fields in `given` as given, every other one from the row's
    column of the same name (a missing column is a KeyError, not a silent default)."""
    columns = row._mapping
    return cls(**{name: columns[name] for name in _names(cls) if name not in given}, **given)
