"""What reconciliation and notification intake need of a platform: its orders updated in a
window, page by page; one order's detail; and how to read an order it returns."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import httpx

from lvyue.order_review.settings import ShopPull

RawOrder = Mapping[str, Any]


@dataclass(frozen=True)
class Page:
    orders: list[RawOrder]
    last: bool  # no page follows


class OrderSource(Protocol):
    platform: str

    def pages(
        self,
        client: httpx.AsyncClient,
        shop: ShopPull,
        *,
        since: datetime,
        until: datetime,
        limit: int,
    ) -> AsyncIterator[Page]:
        """The shop's orders updated in [since, until], oldest first, a page at a time."""
        ...

    async def detail(
        self, client: httpx.AsyncClient, shop: ShopPull, platform_order_id: str
    ) -> RawOrder | None:
        """One order as the search returns it; None if the platform does not know it."""
        ...

    def order_id(self, order: RawOrder) -> str: ...

    def cancellation(self, order: RawOrder) -> str | None:
        """Why the platform cancelled the order ("" if it gave no reason); None if it did not."""
        ...

    def adapter_input(
        self, shop_id: str, order: RawOrder
    ) -> tuple[Mapping[str, str], Mapping[str, Any]]:
        """The (headers, payload) the platform's intake adapter maps to a CanonicalOrder."""
        ...
