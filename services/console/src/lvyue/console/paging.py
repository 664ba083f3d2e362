"""Previous / next for a server-side page of a list."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode


@dataclass(frozen=True, slots=True)
class Pages:
    previous: int | None
    next: int | None
    first: int  # 1-based positions shown on this page
    last: int


def pages(total: int, offset: int, size: int) -> Pages:
    previous = max(0, offset - size) if offset > 0 else None
    following = offset + size if offset + size < total else None
    return Pages(previous, following, min(offset + 1, total), min(offset + size, total))


def query_of(**filters: str | bool | None) -> str:
    """The list's filters as a query string, those left out omitted (for links and polls)."""
    return urlencode({k: "true" if v is True else v for k, v in filters.items() if v})
