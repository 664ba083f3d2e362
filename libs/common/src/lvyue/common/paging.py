"""One list page, the same in every service: what the client asked for (`Paging`), what it
gets back (`Page[Item]`) and the two statements that find it (`fetch_page`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Self, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Row, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

Item = TypeVar("Item")
# A SELECT of any columns.
AnySelect = Select[*tuple[Any, ...]]


@dataclass(frozen=True)
class Paging:
    """Which slice of a list: at most `limit` items after skipping `offset`."""

    limit: int = 100
    offset: int = 0


class Page(BaseModel, Generic[Item]):
    """A slice of a list and how many items match the filters in all."""

    items: list[Item]
    total: int
    limit: int
    offset: int

    @classmethod
    def of(cls, items: Iterable[Item], total: int, paging: Paging) -> Self:
        return cls(items=list(items), total=total, limit=paging.limit, offset=paging.offset)


def equal(column: ColumnElement[Any], value: object | None) -> ColumnElement[bool] | None:
    """The filter `column = value`, or None (no filter) when the client left it out."""
    return None if value is None else column == value


def filtered(query: AnySelect, *conditions: ColumnElement[bool] | None) -> AnySelect:
    """`query` narrowed by each filter the client set (None: not set)."""
    return query.where(*(c for c in conditions if c is not None))


async def fetch_page(
    session: AsyncSession,
    query: AnySelect,
    paging: Paging,
    *order_by: ColumnElement[Any],
) -> tuple[Sequence[Row[Any]], int]:
    """The rows of the page, in `order_by`, and how many rows the whole query has."""
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.execute(
        query.order_by(*order_by).limit(paging.limit).offset(paging.offset)
    )
    return rows.all(), int(total or 0)
