"""from_row: a record from a row by column names, what needs converting given."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import SimpleNamespace

import pytest

from lvyue.common.rows import from_row


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


def test_a_missing_column_is_an_error_not_a_default() -> None:
    with pytest.raises(KeyError, match="name"):
        from_row(Thing, _row(id=7, state="open"), state=State.OPEN)
