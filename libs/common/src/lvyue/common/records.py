"""Copying by field name, with only the conversions spelled out: a repository's records from
rows (frozen dataclasses whose fields are named as their table's columns), and an API's
response models from records."""

from __future__ import annotations

import functools
from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

Record = TypeVar("Record", bound="DataclassInstance")
Model = TypeVar("Model", bound=BaseModel)


@functools.cache
def _names(cls: type[DataclassInstance]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def from_row(cls: type[Record], row: Any, *, prefix: str = "", **given: Any) -> Record:
    """`cls` from `row`: the fields in `given` as given, every other one from the row's
    column of the same name, after `prefix` where a join labelled one table's columns so (a
    missing column is a KeyError, not a silent default)."""
    columns = row._mapping
    return cls(
        **{name: columns[prefix + name] for name in _names(cls) if name not in given}, **given
    )


def model_from(cls: type[Model], *sources: object, **given: Any) -> Model:
    """`cls` (validated) from `given` and, for each other field, the attribute of that name of
    the first source that has one; a field no source has is left to its default."""
    values = dict(given)
    for name in cls.model_fields:
        if name in values:
            continue
        for source in sources:
            if hasattr(source, name):
                values[name] = getattr(source, name)
                break
    return cls.model_validate(values)
