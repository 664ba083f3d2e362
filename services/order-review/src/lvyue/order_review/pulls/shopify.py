"""Shopify's Admin REST orders search, one page per call.

GET {base_url}/admin/api/{version}/orders.json?status=any&updated_at_min=&updated_at_max=&limit=
with the X-Shopify-Access-Token header; later pages follow the `Link: <...page_info=...>;
rel="next"` header, and a request with page_info carries only limit (Shopify refuses the
filters beside a cursor). A 429 answers with Retry-After; the call is retried after it.
Documented by Shopify (shopify.dev: REST Admin API, Order resource, "Make paginated requests
to the REST Admin API", "REST Admin API rate limits"). Shopify calls REST a legacy API for new
public apps (GraphQL Admin API); existing custom apps keep it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
)

from lvyue.order_review.settings import ShopPull

MAX_RETRY_AFTER_S = 30.0
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


class PullError(Exception):
    """The platform refused or failed the call: the pull stops, its watermark stays."""


class _Retryable(PullError):
    def __init__(self, message: str, wait_s: float = 0.0) -> None:
        super().__init__(message)
        self.wait_s = wait_s


@dataclass(frozen=True)
class OrdersPage:
    orders: list[Mapping[str, Any]]
    next_url: str | None  # the cursor's URL, None on the last page


def first_page_url(shop: ShopPull, *, since: datetime, until: datetime, limit: int) -> str:
    query = httpx.QueryParams(
        status="any",
        updated_at_min=since.isoformat(),
        updated_at_max=until.isoformat(),
        limit=str(limit),
    )
    return f"{shop.base_url.rstrip('/')}/admin/api/{shop.api_version}/orders.json?{query}"


async def fetch_page(client: httpx.AsyncClient, shop: ShopPull, url: str) -> OrdersPage:
    """One page; 429 and 5xx are tried again (3 times, after Retry-After or a backoff)."""
    retrying = AsyncRetrying(
        retry=retry_if_exception_type(_Retryable),
        stop=stop_after_attempt(3),
        wait=lambda state: _wait_s(state.outcome.exception() if state.outcome else None),
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            return await _get(client, shop, url)
    raise AssertionError("unreachable: tenacity reraises the last error")


def _wait_s(error: BaseException | None) -> float:
    """Retry-After when Shopify gave one (bounded), else half a second."""
    if isinstance(error, _Retryable) and error.wait_s > 0:
        return min(error.wait_s, MAX_RETRY_AFTER_S)
    return 0.5


async def _get(client: httpx.AsyncClient, shop: ShopPull, url: str) -> OrdersPage:
    headers = {"X-Shopify-Access-Token": shop.access_token.get_secret_value()}
    try:
        response = await client.get(url, headers=headers)
    except httpx.TransportError as exc:
        raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
    if response.status_code == 429:
        raise _Retryable("429 rate limited", _retry_after(response.headers.get("Retry-After")))
    if response.status_code >= 500:
        raise _Retryable(f"{response.status_code} from Shopify")
    if response.status_code != 200:
        raise PullError(f"{response.status_code} from Shopify: {response.text[:200]}")
    try:
        orders = response.json()["orders"]
    except (ValueError, KeyError, TypeError) as exc:
        raise PullError("Shopify answered without an orders list") from exc
    if not isinstance(orders, list):
        raise PullError("Shopify answered without an orders list")
    found = _NEXT.search(response.headers.get("Link", ""))
    return OrdersPage([o for o in orders if isinstance(o, Mapping)], found and found.group(1))


def _retry_after(value: str | None) -> float:
    try:
        return max(0.0, float(value or "1"))
    except ValueError:
        return 1.0
