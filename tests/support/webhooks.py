"""Signing webhooks the way the platforms do, for tests and the demo."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent.parent / "data"


def shopify_sample() -> bytes:
    return (DATA / "shopify_orders_create.json").read_bytes()


def canonical_sample() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "lvyue_order.json").read_text())
    return data


def shopify_headers(body: bytes, secret: str, *, webhook_id: str | None = None) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Shop-Domain": "lvyue-test.myshopify.com",
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
    }


def lvyue_headers(
    body: bytes, secret: str, *, delivery: str | None = None, timestamp: int | None = None
) -> dict[str, str]:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    digest = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Lvyue-Timestamp": ts,
        "X-Lvyue-Signature": f"sha256={digest}",
        "X-Lvyue-Delivery": delivery or str(uuid.uuid4()),
    }
