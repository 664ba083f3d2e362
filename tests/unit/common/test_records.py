"""Copying by field name: from_row (records from rows) and model_from (models from records)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import SimpleNamespace

import pytest
from pydantic import BaseModel, ValidationError

from lvyue.common.records import from_row, model_from


class State(StrEnum):
    OPEN = "open"


@dataclass(frozen=True)
class Thing:
    id: int
    name: str
    state: State


def _row(**columns: object) -> SimpleNamespace:
    return SimpleNamespace(_mapping=columns)


def test_fields_come_from_the_columns_of_their_name_and_given_ones_win() -> None:
    row = _row(id=7, name="seven", state="open", extra="ignored")
    assert from_row(Thing, row, state=State(row._mapping["state"])) == Thing(7, "seven", State.OPEN)


def test_a_prefix_reads_the_columns_a_join_labelled() -> None:
    row = _row(id=1, p_id=7, p_name="seven", p_state="open")
    assert from_row(Thing, row, prefix="p_", state=State.OPEN) == Thing(7, "seven", State.OPEN)


def test_a_missing_column_is_an_error_not_a_default() -> None:
    with pytest.raises(KeyError, match="name"):
        from_row(Thing, _row(id=7, state="open"), state=State.OPEN)


class ThingRead(BaseModel):
    id: int
    name: str
    state: State
    note: str = "none"


def test_a_model_takes_each_field_from_the_first_source_that_has_it() -> None:
    outer = SimpleNamespace(id=1, name="outer")
    inner = SimpleNamespace(name="inner", state="open")
    assert model_from(ThingRead, inner, outer) == ThingRead(id=1, name="inner", state=State.OPEN)


def test_given_fields_win_and_a_field_no_source_has_keeps_its_default() -> None:
    source = SimpleNamespace(id=1, name="one", state="open", note="from the source")
    assert model_from(ThingRead, source, note="given").note == "given"
    assert model_from(ThingRead, SimpleNamespace(id=1, name="one", state="open")).note == "none"


def test_a_required_field_no_source_has_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="state"):
        model_from(ThingRead, SimpleNamespace(id=1, name="one"))
