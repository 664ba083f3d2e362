"""Shopify's Admin REST orders search, one page per call.

GET {base_url}/admin/api/{version}/orders.json?status=any&updated_at_min=&updated_at_max=&limit=
with the X-Shopify-Access-Token header; later pages follow the `Link: <...page_info=...>;
rel="next"` header, and a request with page_info carries only limit (Shopify refuses the
filters beside a cursor). A 429 answers with Retry-After; the call is retried after it. One
order: GET .../orders/{id}.json -> {"order": {...}}. Documented by Shopify (shopify.dev: REST
Admin API, Order resource, "Make paginated requests to the REST Admin API", "REST Admin API
rate limits"). Shopify calls REST a legacy API for new public apps (GraphQL Admin API);
existing custom apps keep it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from functools import partial
from typing import Any

import httpx

from lvyue.order_review.pulls.calls import PullError, check_status, json_object, send, with_retries
from lvyue.order_review.pulls.source import Page, RawOrder
from lvyue.order_review.settings import ShopPull

MAX_LIMIT = 250
MAX_PAGES = 1000  # a bound on one pull's loop: 250,000 orders updated in one window
DEFAULT_PORTS = {"http": 80, "https": 443}
SHOP_HEADER = "x-shopify-shop-domain"
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


class ShopifyOrders:
    platform = "shopify"

    async def pages(
        self,
        client: httpx.AsyncClient,
        shop: ShopPull,
        *,
        since: datetime,
        until: datetime,
        limit: int,
    ) -> AsyncIterator[Page]:
        query = httpx.QueryParams(
            status="any",
            updated_at_min=since.isoformat(),
            updated_at_max=until.isoformat(),
            limit=str(min(limit, MAX_LIMIT)),
        )
        url = f"{_root(shop)}/orders.json?{query}"
        for _ in range(MAX_PAGES):
            response = await with_retries(partial(_get, client, shop, url))
            orders = _orders(response)
            following = _next_page(response, shop)
            yield Page(orders, last=following is None)
            if following is None:
                return
            url = following
        raise PullError(f"more than {MAX_PAGES} pages updated in one window")

    async def detail(
        self, client: httpx.AsyncClient, shop: ShopPull, platform_order_id: str
    ) -> RawOrder | None:
        url = f"{_root(shop)}/orders/{platform_order_id}.json"
        try:
            response = await with_retries(partial(_get, client, shop, url))
        except PullError as exc:
            if str(exc).startswith("404"):
                return None
            raise
        order = json_object(response, "Shopify").get("order")
        return order if isinstance(order, Mapping) else None

    def order_id(self, order: RawOrder) -> str:
        return str(order.get("id"))

    def cancellation(self, order: RawOrder) -> str | None:
        if not order.get("cancelled_at"):
            return None
        return str(order.get("cancel_reason") or "")

    def adapter_input(
        self, shop_id: str, order: RawOrder
    ) -> tuple[Mapping[str, str], Mapping[str, Any]]:
        return {SHOP_HEADER: shop_id}, order


def _next_page(response: httpx.Response, shop: ShopPull) -> str | None:
    """The answer's `rel="next"` URL, if any. It is followed (with the shop's access token)
    only on the shop's own scheme, host and port: an answer naming another one, however it
    came to (a proxy, a base_url on plain HTTP), is refused, the token kept."""
    found = _NEXT.search(response.headers.get("Link", ""))
    if found is None:
        return None
    url = found.group(1).strip()
    try:
        same = _origin(httpx.URL(url)) == _origin(httpx.URL(shop.base_url))
    except httpx.InvalidURL:
        same = False
    if not same:
        raise PullError(f"Shopify's next page {url[:200]!r} is not on the shop's {shop.base_url}")
    return url


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or DEFAULT_PORTS.get(url.scheme)


def _root(shop: ShopPull) -> str:
    return f"{shop.base_url.rstrip('/')}/admin/api/{shop.api_version}"


async def _get(client: httpx.AsyncClient, shop: ShopPull, url: str) -> httpx.Response:
    headers = {"X-Shopify-Access-Token": shop.access_token.get_secret_value()}
    response = await send(client, client.build_request("GET", url, headers=headers))
    check_status(response, "Shopify")
    return response


def _orders(response: httpx.Response) -> list[RawOrder]:
    orders = json_object(response, "Shopify").get("orders")
    if not isinstance(orders, list):
        raise PullError("Shopify answered without an orders list")
    return [o for o in orders if isinstance(o, Mapping)]
