"""The sandbox's Shopify shop: orders a test or the demo creates, their orders/create webhooks
(a share of them dropped on purpose, as Shopify's delivery is "not guaranteed"), and the Admin
REST orders search that reconciliation reads them back from.

Shapes follow Shopify's documentation (shopify.dev: REST Admin API Order resource, webhook
delivery headers, cursor pagination with `Link: <...page_info=...>; rel="next"`, where a
request with page_info carries nothing but limit). Control endpoints under /_sim/shopify:
    POST /_sim/shopify/orders   {"shop", "count", "drop_share", "webhook_url", "webhook_secret",
                                 "skus", "seed"} -> {"ids": [...], "dropped": [...]}
    POST /_sim/shopify/faults   {"fail_pages": n, "from_offset": k, "status": 500|429}
    GET  /_sim/shopify/faults   the refusals left, and how many orders the shops hold
    POST /_sim/shopify/orders/{id}/cancel   the buyer cancels (seen by the next pull)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lvyue.cli.sandbox_shares import Shares

ACCESS_TOKEN = "dev-sandbox-access-token"
MAX_LIMIT = 250


@dataclass
class Faults:
    fail_pages: int = 0  # answers to refuse (each retry of a page counts)...
    from_offset: int = 0  # ...to requests for pages from this offset on (50: the second page)
    status: int = 500

    @classmethod
    def of(cls, spec: dict[str, Any]) -> Faults:
        return cls(
            int(spec.get("fail_pages", 0)),
            int(spec.get("from_offset", 0)),
            int(spec.get("status", 500)),
        )


@dataclass
class ShopifyStore:
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)


STORE = ShopifyStore()


def new_order(rng: random.Random, skus: list[str], now: datetime) -> dict[str, Any]:
    order_id = rng.randrange(10**17, 10**18)
    sku = rng.choice(skus)
    quantity = rng.randint(1, 3)
    price = "168.00"
    total = f"{168 * quantity:.2f}"
    stamp = now.isoformat()
    return {
        "id": order_id,
        "email": f"buyer{order_id % 10000}@example.com",
        "created_at": stamp,
        "updated_at": stamp,
        "processed_at": stamp,
        "cancelled_at": None,
        "financial_status": "paid",
        "currency": "CNY",
        "total_line_items_price": total,
        "subtotal_price": total,
        "total_discounts": "0.00",
        "total_price": total,
        "total_shipping_price_set": {"shop_money": {"amount": "0.00", "currency_code": "CNY"}},
        "tags": "",
        "note": "",
        "customer": {"id": rng.randrange(10**12, 10**13)},
        "shipping_address": {
            "name": "张伟",
            "address1": "浦东新区 世纪大道100号",
            "address2": "2号楼 1801室",
            "city": "上海市",
            "province": "上海市",
            "country_code": "CN",
            "zip": "200120",
            "phone": f"139{rng.randrange(10**7, 10**8)}",
        },
        "line_items": [
            {
                "id": rng.randrange(10**17, 10**18),
                "variant_id": rng.randrange(10**12, 10**13),
                "sku": sku,
                "title": sku,
                "quantity": quantity,
                "price": price,
            }
        ],
    }


def webhook_headers(
    body: bytes, secret: str, shop: str, topic: str = "orders/create"
) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
    }


async def create_orders(request: Request) -> Response:
    """New paid orders, each announced by webhook unless dropped (seeded: repeatable)."""
    spec = await request.json()
    rng = random.Random(spec.get("seed", 1))
    count = int(spec["count"])
    shop, skus = str(spec["shop"]), list(spec["skus"])
    now = datetime.now(UTC)
    made = [new_order(rng, skus, now) for _ in range(count)]
    shares = Shares.draw(rng, count, spec | {"repeat_share": 0.0})  # webhooks: drops only
    async with httpx.AsyncClient(timeout=10.0) as client:
        for n, order in enumerate(made):
            if n in shares.dropped:
                continue
            body = json.dumps(order, ensure_ascii=False).encode()
            headers = webhook_headers(body, str(spec["webhook_secret"]), shop)
            answer = await client.post(str(spec["webhook_url"]), content=body, headers=headers)
            if answer.status_code >= 300:
                return JSONResponse({"error": answer.text, "order": order["id"]}, 502)
    # Searchable once every webhook went out: a pull that overtook a webhook in flight would
    # count its order as missed (in life it may; a test wants the count exact).
    for order in made:
        STORE.orders[order["id"]] = order | {"shop": shop}
    return JSONResponse(shares.answer([str(o["id"]) for o in made]))


async def cancel_order(request: Request) -> Response:
    """The buyer cancels on the platform: cancelled_at and updated_at now, and the orders/cancelled
    webhook sent when {"webhook_url", "webhook_secret"} say where (else the pull finds it)."""
    order = STORE.orders.get(int(request.path_params["order_id"]))
    if order is None:
        return JSONResponse({"errors": "Not Found"}, 404)
    spec = await request.json()
    now = datetime.now(UTC).isoformat()
    order.update(cancelled_at=now, updated_at=now, cancel_reason="customer")
    if spec.get("webhook_url"):
        body = json.dumps(_public(order), ensure_ascii=False).encode()
        secret, shop = str(spec["webhook_secret"]), str(order["shop"])
        headers = webhook_headers(body, secret, shop, topic="orders/cancelled")
        async with httpx.AsyncClient(timeout=10.0) as client:
            answer = await client.post(str(spec["webhook_url"]), content=body, headers=headers)
        if answer.status_code >= 300:
            return JSONResponse({"error": answer.text}, 502)
    return JSONResponse({"id": str(order["id"]), "cancelled_at": now})


async def set_faults(request: Request) -> Response:
    if request.method == "GET":
        return JSONResponse(vars(STORE.faults) | {"orders": len(STORE.orders)})
    STORE.faults = Faults.of(await request.json())
    return JSONResponse({"ok": True})


def _public(order: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in order.items() if k != "shop"}


def get_order(request: Request, shop: str, order_id: str) -> Response:
    """GET .../orders/{id}.json: one order of the shop, {"order": {...}}."""
    if request.headers.get("X-Shopify-Access-Token") != ACCESS_TOKEN:
        return JSONResponse({"errors": "[API] Invalid API key or access token"}, 401)
    order = STORE.orders.get(int(order_id)) if order_id.isdigit() else None
    if order is None or order["shop"] != shop:
        return JSONResponse({"errors": "Not Found"}, 404)
    return JSONResponse({"order": _public(order)})


def search_orders(request: Request, shop: str) -> Response:
    """GET .../orders.json: updated_at window, status=any, limit; then page_info cursors."""
    if request.headers.get("X-Shopify-Access-Token") != ACCESS_TOKEN:
        return JSONResponse({"errors": "[API] Invalid API key or access token"}, 401)
    params = dict(request.query_params)
    cursor = params.get("page_info")
    if cursor is not None:
        if set(params) - {"page_info", "limit"}:
            return JSONResponse({"errors": "page_info cannot be passed with other filters"}, 400)
        try:
            window = json.loads(base64.urlsafe_b64decode(cursor))
        except (binascii.Error, ValueError):
            return JSONResponse({"errors": "Invalid page_info"}, 400)
    else:
        window = {"min": params.get("updated_at_min"), "max": params.get("updated_at_max"), "at": 0}
    limit = min(int(params.get("limit", 50)), MAX_LIMIT)
    found = _matching(shop, window.get("min"), window.get("max"))
    faults = STORE.faults
    if faults.fail_pages > 0 and window["at"] >= faults.from_offset and window["at"] < len(found):
        faults.fail_pages -= 1
        headers = {"Retry-After": "0.1"} if faults.status == 429 else {}
        return JSONResponse({"errors": "simulated fault"}, faults.status, headers=headers)
    page = found[window["at"] : window["at"] + limit]
    headers = {}
    if window["at"] + limit < len(found):
        following = {**window, "at": window["at"] + limit}
        token = base64.urlsafe_b64encode(json.dumps(following).encode()).decode()
        url = request.url.replace_query_params(page_info=token, limit=str(limit))
        headers["Link"] = f'<{url}>; rel="next"'
    return JSONResponse({"orders": [_public(o) for o in page]}, headers=headers)


def _matching(shop: str, since: str | None, until: str | None) -> list[dict[str, Any]]:
    low = datetime.fromisoformat(since) if since else None
    high = datetime.fromisoformat(until) if until else None
    found = []
    for order in STORE.orders.values():
        updated = datetime.fromisoformat(order["updated_at"])
        if order["shop"] != shop:
            continue
        if (low is None or updated >= low) and (high is None or updated <= high):
            found.append(order)
    return sorted(found, key=lambda o: (o["updated_at"], o["id"]))
