"""Shopify's `orders/cancelled` webhook, read into a notification.

Shopify sends the whole order (`id`, `cancelled_at`, `cancel_reason`, ...) with the headers of
every webhook (platforms/shopify.py: X-Shopify-Hmac-Sha256, -Shop-Domain, -Topic, -Webhook-Id),
and delivers again until it gets a 2xx. lvyue stores the cancellation by webhook id and the
notifications job fetches the order (orders/{id}.json) to confirm it before stopping it, as
for any platform: a cancellation the webhook never brought, the shop's pull finds. Orders
themselves still come by `orders/create` to /webhooks/shopify/orders; other topics sent here
are acknowledged and not stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lvyue.common.webhooks import unprocessable
from lvyue.common.webhooks.fields import digits_id
from lvyue.order_review.platforms.base import header
from lvyue.order_review.platforms.shopify import SHOP_HEADER, TOPIC_HEADER, WEBHOOK_ID_HEADER
from lvyue.order_review.repository import NewNotification

PLATFORM = "shopify"
KINDS: Mapping[str, str] = {"orders/cancelled": "cancelled"}
ANSWER = b'{"received":true}'


def read_webhook(headers: Mapping[str, str], payload: Any) -> tuple[list[NewNotification], int]:
    """The webhook's notification, or none (and 1 ignored) for a topic lvyue does not follow;
    raises WebhookRejected (422) naming the header or field that is wrong."""
    kind = KINDS.get(header(headers, TOPIC_HEADER) or "")
    if kind is None:
        return [], 1
    webhook_id = header(headers, WEBHOOK_ID_HEADER)
    if webhook_id is None or len(webhook_id) > 128:
        raise unprocessable(f"required: header {WEBHOOK_ID_HEADER}, at most 128 characters")
    shop = (header(headers, SHOP_HEADER) or "").lower()
    if not isinstance(payload, Mapping):
        raise unprocessable("must be a JSON object (the order)")
    order_id = digits_id(payload.get("id"))
    if order_id is None:
        raise unprocessable("required: the order's id, digits", ["id"])
    return [NewNotification(PLATFORM, webhook_id, shop, order_id, kind)], 0
