"""Platform notifications (抖店's message push, Shopify's orders/cancelled webhook): verified,
stored, then answered as the platform wants; the job in notifications/fetch.py fetches the
orders they name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import Response

from lvyue.common.app import KernelDep
from lvyue.common.openapi import problem_responses
from lvyue.common.routing import api_router
from lvyue.common.webhooks import WebhookRejected, delivery_id, read_json_document_request
from lvyue.common.webhooks.errors import PayloadError
from lvyue.common.webhooks.openapi import webhook_openapi
from lvyue.order_review import repository
from lvyue.order_review.api.orders import signed_params
from lvyue.order_review.notifications import douyin, shopify
from lvyue.order_review.platforms import ADAPTERS
from lvyue.order_review.platforms.base import SignatureError
from lvyue.order_review.platforms.shopify import WEBHOOK_ID_HEADER
from lvyue.order_review.pulls import metrics
from lvyue.order_review.repository import NewNotification
from lvyue.order_review.settings import OrderReviewSettings

router = api_router()


@dataclass(frozen=True)
class Notifier:
    # (headers, payload) -> the notifications, and how many messages were of other kinds
    read: Callable[[Mapping[str, str], Any], tuple[list[NewNotification], int]]
    answer: bytes  # what the platform wants to hear back, or it pushes again
    # The header of the sender's delivery id, checked as every webhook's (lvyue.common.webhooks)
    delivery_header: str | None = None


NOTIFIERS = {
    "douyin": Notifier(lambda _, payload: douyin.read_push(payload), douyin.ANSWER),
    "shopify": Notifier(shopify.read_webhook, shopify.ANSWER, WEBHOOK_ID_HEADER),
}


def _refused(platform: str, code: int, detail: Any, outcome: str) -> HTTPException:
    metrics.NOTIFICATIONS.labels(platform, "-", outcome).inc()
    return HTTPException(status_code=code, detail=detail)


EXAMPLE_PUSH = [
    {
        "tag": "101",
        "msg_id": "7400123456789012345",
        "data": '{"p_id":6919283746501234567,"s_ids":[6919283746501234568],'
        '"shop_id":4463798,"order_status":2,"order_type":0,"pay_type":1,'
        '"pay_time":1718715933,"pay_amount":17800,"biz":2}',
    }
]


def _openapi() -> dict[str, Any]:
    extra = webhook_openapi(["douyin"], examples={}, body="")
    extra["requestBody"] = {
        "required": True,
        "description": "抖店's message push (path parameter `platform`: douyin): a JSON array "
        "of {tag, msg_id, data}, data a JSON object as text; tags 100 (created), 101 (paid), "
        "105 (address changed), 106 (cancelled) and 206 (refunded before shipment) are "
        "stored, others acknowledged. Shopify (`platform`: shopify): the orders/cancelled "
        "webhook, the order as its body, Shopify's webhook headers.",
        "content": {
            "application/json": {
                "schema": {"type": "array", "maxItems": douyin.MAX_MESSAGES,
                           "items": {"type": "object"}},
                "examples": {"douyin": {"summary": "抖店 TradePaid", "value": EXAMPLE_PUSH}},
            }
        },
    }  # fmt: skip
    return extra


@router.post(
    "/notifications/{platform}",
    openapi_extra=_openapi(),
    responses={
        200: {
            "description": "stored (a repeat once): the platform's own success answer",
            "content": {"application/json": {"example": {"code": 0, "msg": "success"}}},
        },
        **problem_responses(
            described={
                401: "signature missing or wrong",
                404: "a platform lvyue takes no notifications from",
                413: "body over 1 MiB",
                415: "not application/json, not UTF-8, or compressed (Content-Encoding)",
                422: "malformed JSON, JSON past its limits, or a message without its tag, "
                "message id, order id or shop id (抖店), a webhook without its id or the "
                "order's id (Shopify); the error names which",
            }
        ),
    },
)
async def receive_notifications(platform: str, request: Request, kernel: KernelDep) -> Response:
    """Stores a platform's signed notifications before answering; their orders are fetched
    after (each order once, whatever the number of notifications)."""
    notifier = NOTIFIERS.get(platform)
    if notifier is None:
        known = ", ".join(sorted(NOTIFIERS))
        raise _refused(
            "unknown",
            404,
            f"no notifications from {platform!r}; known: {known}",
            "unknown_platform",
        )
    settings: OrderReviewSettings = request.app.state.settings
    try:
        body, payload = await read_json_document_request(request)
        params = signed_params(request)
        ADAPTERS[platform].verify(
            params, body, settings.app_secret, now=kernel.uow.wall_clock.now()
        )
        if notifier.delivery_header is not None:
            delivery_id(params, notifier.delivery_header)
        found, ignored = notifier.read(params, payload)
    except WebhookRejected as exc:
        raise _refused(platform, exc.status, exc.detail, exc.outcome) from exc
    except SignatureError as exc:
        raise _refused(platform, 401, str(exc), "unauthorized") from exc
    except PayloadError as exc:
        errors = [{"loc": [loc], "msg": msg} for loc, msg in exc.field_errors]
        raise _refused(platform, 422, errors, "invalid") from exc
    async with kernel.uow() as uow:
        new = await repository.record_notifications(uow.session, found, received_at=uow.clock.now())
        await uow.commit()
    for item in found:
        outcome = "new" if item.message_id in new else "repeat"
        metrics.NOTIFICATIONS.labels(platform, item.kind, outcome).inc()
    metrics.NOTIFICATIONS.labels(platform, "other", "ignored").inc(ignored)
    return Response(notifier.answer, media_type="application/json")
