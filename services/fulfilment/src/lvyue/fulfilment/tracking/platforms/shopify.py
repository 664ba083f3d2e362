"""Shopify (REST Admin API): a fulfillment with tracking info for the order's fulfillment orders.

Shopify removed POST /admin/api/<version>/orders/{order_id}/fulfillments.json (deprecated in
2022-07; calls fail since mid-2023, see shopify.dev/changelog "legacy fulfillment api
deprecation"). Its documented replacement is two calls, both with X-Shopify-Access-Token:
    GET  /admin/api/<version>/orders/{order_id}/fulfillment_orders.json
         -> {"fulfillment_orders": [{"id": 1046000778, "status": "open", ...}]}
    POST /admin/api/<version>/fulfillments.json
         {"fulfillment": {"line_items_by_fulfillment_order": [{"fulfillment_order_id": ...}],
                          "tracking_info": {"number": "...", "company": "..."},
                          "notify_customer": true}}
         -> 201 {"fulfillment": {"id": ..., "status": "success", ...}}
Every open or in-progress fulfillment order of the order is fulfilled in full (lvyue ships an
order as one parcel). No open fulfillment order left is refused for good: the order is
fulfilled (perhaps by an earlier attempt whose answer was lost) or cancelled; ops look at it.

The base URL is the shop's admin origin (https://<shop>.myshopify.com); the order id is
Shopify's numeric order id (our platform_order_id). Tracking companies are sent by name;
CARRIER_NAMES maps lvyue's codes to Shopify's names, anything else is sent as given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx

from lvyue.fulfilment.settings import PlatformApi

from .base import (
    ConfigError,
    Outcome,
    OutcomeKind,
    TrackingPush,
    classify_http,
    json_body,
    require,
    send,
)

API_VERSION = "2025-01"
TOKEN_HEADER = "X-Shopify-Access-Token"
OPEN_STATES = frozenset({"open", "in_progress"})
CARRIER_NAMES: Mapping[str, str] = {
    "SF": "SF Express",
    "ZTO": "ZTO Express",
    "YTO": "YTO Express",
    "STO": "STO Express",
    "YUNDA": "Yunda Express",
}


class ShopifyAdapter:
    name = "shopify"

    def __init__(
        self, carrier_codes: Mapping[str, str] | None = None, *, api_version: str = API_VERSION
    ) -> None:
        self.carrier_names = {**CARRIER_NAMES, **(carrier_codes or {})}
        self.api_version = api_version

    def _url(self, api: PlatformApi, path: str) -> str:
        return f"{str(api.base_url).rstrip('/')}/admin/api/{self.api_version}/{path}"

    def _headers(self, api: PlatformApi) -> dict[str, str]:
        token = require(api.access_token, "access_token")
        return {TOKEN_HEADER: token, "Accept": "application/json"}

    def fulfillment_orders_request(self, push: TrackingPush, api: PlatformApi) -> httpx.Request:
        order_id = push.platform_order_id
        if not order_id.isdigit():
            raise ConfigError(f"Shopify order id must be numeric, got {order_id!r}")
        path = f"orders/{order_id}/fulfillment_orders.json"
        return httpx.Request("GET", self._url(api, path), headers=self._headers(api))

    def fulfillment_request(
        self, push: TrackingPush, api: PlatformApi, fulfillment_order_ids: Sequence[int]
    ) -> httpx.Request:
        body = {
            "fulfillment": {
                "line_items_by_fulfillment_order": [
                    {"fulfillment_order_id": fo_id} for fo_id in fulfillment_order_ids
                ],
                "tracking_info": {
                    "number": push.tracking_number,
                    "company": self.carrier_names.get(push.carrier_code, push.carrier_code),
                },
                "notify_customer": True,
            }
        }
        url = self._url(api, "fulfillments.json")
        return httpx.Request("POST", url, json=body, headers=self._headers(api))

    async def push(
        self, client: httpx.AsyncClient, push: TrackingPush, api: PlatformApi, *, now: datetime
    ) -> Outcome:
        try:
            lookup = self.fulfillment_orders_request(push, api)
        except ConfigError as exc:
            return Outcome.permanent(f"shopify: {exc}")
        found: list[int] = []
        outcome = await send(client, lookup, lambda r: open_fulfillment_orders(r, found))
        if outcome.kind is not OutcomeKind.SYNCED:
            return outcome
        return await send(client, self.fulfillment_request(push, api, found), classify_created)


def open_fulfillment_orders(response: httpx.Response, found: list[int]) -> Outcome:
    """Collects the open fulfillment orders' ids into `found`; synced means "go on"."""
    failed = classify_http(response)
    if failed is not None:
        return failed
    body = json_body(response)
    orders: Any = body.get("fulfillment_orders") if body is not None else None
    if not isinstance(orders, list):
        return Outcome.retry(f"unreadable fulfillment orders: {response.text[:200]}", 200)
    found.extend(
        int(fo["id"])
        for fo in orders
        if isinstance(fo, dict) and fo.get("status") in OPEN_STATES and "id" in fo
    )
    if not found:
        states = sorted({str(fo.get("status")) for fo in orders if isinstance(fo, dict)})
        return Outcome.permanent(
            f"no open fulfillment order (states: {', '.join(states) or 'none'}): "
            "already fulfilled or cancelled",
            response.status_code,
        )
    return Outcome.synced(response.status_code)


def classify_created(response: httpx.Response) -> Outcome:
    failed = classify_http(response)
    if failed is not None:
        return failed
    body = json_body(response)
    fulfillment: Any = body.get("fulfillment") if body is not None else None
    if isinstance(fulfillment, dict) and fulfillment.get("status") in {"success", "pending"}:
        return Outcome.synced(response.status_code)
    return Outcome.permanent(f"fulfillment not created: {response.text[:200]}")
