"""Bounded query parameters for the services' list endpoints, and bounded text path
parameters: a value out of bounds is a 422, never a driver error (PostgreSQL's OFFSET/LIMIT
are int64; its text refuses U+0000; a btree index refuses a key over 2,704 bytes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query
from pydantic import AfterValidator

from lvyue.common.paging import Paging

# Deeper than this, offset paging costs a scan of every skipped row: narrow the filter instead.
MAX_OFFSET = 10_000_000
MAX_PAGE = 500
MAX_FILTER_LENGTH = 128
# Identifiers (warehouse, SKU, platform, shop) are printable: no control characters, no NUL.
_PRINTABLE = r"^[^\x00-\x1f\x7f]+$"

Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Most items in the page.")]
FilterText = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_FILTER_LENGTH,
        pattern=_PRINTABLE,
        description="Exact match; printable text.",
    ),
]


def _trimmed(value: str) -> str:
    if value != value.strip():
        raise ValueError("must not start or end with a space")
    return value


# Text path parameters naming a resource: printable, bounded as the bodies that name it, no
# space around them (bodies strip theirs: a name with one could never be referred to again).
WarehouseIdPath = Annotated[
    str,
    Path(min_length=1, max_length=64, pattern=_PRINTABLE, description="The warehouse's id."),
    AfterValidator(_trimmed),
]
SkuPath = Annotated[
    str,
    Path(min_length=1, max_length=128, pattern=_PRINTABLE, description="The SKU."),
    AfterValidator(_trimmed),
]


async def _paging(limit: Limit = 100, offset: Offset = 0) -> Paging:
    return Paging(limit=limit, offset=offset)


# The `limit` and `offset` query parameters of a list endpoint, as one value.
PagingDep = Annotated[Paging, Depends(_paging)]
