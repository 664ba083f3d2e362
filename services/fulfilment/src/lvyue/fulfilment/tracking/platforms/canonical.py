"""lvyue's own shipment callback, for integrators with no platform API of their own.

    POST <base_url>/shipments
    Content-Type: application/json
    X-Lvyue-Timestamp: unix seconds when we signed
    X-Lvyue-Signature: sha256=<hex HMAC-SHA256 of f"{timestamp}.".encode() + body>
    X-Lvyue-Delivery:  the shipment id, the same on every retry (de-duplicate on it)
    {"order_id": "<the integrator's order id>", "carrier_code": "SF",
     "tracking_number": "...", "dispatched_at": "<ISO 8601>", "shop_id": "...",
     "shipment_id": "<uuid>", "lvyue_order_id": "<uuid>"}
signed exactly like the webhooks integrators send us (order_review.platforms.canonical), with
the platform API's app_secret. Any 2xx is success; the body is not read.
"""

from __future__ import annotations

import json
from datetime import datetime

import httpx

from lvyue.common.security import sign_hmac_sha256
from lvyue.fulfilment.settings import PlatformApi

from .base import Outcome, SingleCallAdapter, TrackingPush, classify_http, require

SIGNATURE_HEADER = "X-Lvyue-Signature"
TIMESTAMP_HEADER = "X-Lvyue-Timestamp"
DELIVERY_HEADER = "X-Lvyue-Delivery"


def signed_message(timestamp: str, body: bytes) -> bytes:
    return f"{timestamp}.".encode() + body


class CanonicalAdapter(SingleCallAdapter):
    def __init__(self, name: str = "lvyue") -> None:
        self.name = name

    def build_request(
        self, push: TrackingPush, api: PlatformApi, *, now: datetime
    ) -> httpx.Request:
        body = json.dumps(
            {
                "order_id": push.platform_order_id,
                "carrier_code": push.carrier_code,
                "tracking_number": push.tracking_number,
                "dispatched_at": push.dispatched_at.isoformat(),
                "shop_id": push.shop_id,
                "shipment_id": str(push.shipment_id),
                "lvyue_order_id": str(push.order_id),
            },
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
        timestamp = str(int(now.timestamp()))
        secret = require(api.app_secret, "app_secret")
        digest = sign_hmac_sha256(secret, signed_message(timestamp, body)).hex()
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: f"sha256={digest}",
            DELIVERY_HEADER: str(push.shipment_id),
        }
        url = str(api.base_url).rstrip("/") + "/shipments"
        return httpx.Request("POST", url, content=body, headers=headers)

    def classify(self, response: httpx.Response) -> Outcome:
        return classify_http(response) or Outcome.synced(response.status_code)
