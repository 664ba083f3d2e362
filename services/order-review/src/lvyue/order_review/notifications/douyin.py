"""抖店's 消息推送: the body of one push, read into notifications.

抖店 POSTs a JSON array of messages to the app's push URL, signed with event-sign (app-id
header; platform_signing.douyin), and wants {"code": 0, "msg": "success"} back, else it pushes
again. Each message is {"tag": "<type>", "msg_id": "<id>", "data": "<JSON object as text>"}; the
order messages' data carry p_id (the shop order id), s_ids, shop_id, order_status, and for some
update_time or pay_time (the SDKs' message classes, e.g. doudian_trade_TradePaid,
doudian_trade_TradeCanceled, doudian_trade_TradeAddressChanged; SKIT.FlurlHttpClient.ByteDance
cites op.jinritemai.com/docs/message-docs/30/110 and /114; jinritemai-go's message types give
the same tag numbers). The tags lvyue reads (not checked against the portal, which needs a
developer login):
    100 doudian_trade_TradeCreate          created (paid later, or cash on delivery)
    101 doudian_trade_TradePaid            paid
    105 doudian_trade_TradeAddressChanged  the buyer changed the receiver
    106 doudian_trade_TradeCanceled        cancelled
    206 doudian_refund_RefundSuccess       refunded; read only when its aftersale_type is 2
                                           (发货前整单退款: the whole order, before shipment),
                                           which stops the order like a cancellation
Other tags (shipping, after-sale refunds and returns, reviews, ...) are acknowledged and not
stored: a refund after shipment is an after-sale case, not an order change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lvyue.common.webhooks import WebhookRejected, decode_json, unprocessable
from lvyue.common.webhooks.fields import digits_id, text
from lvyue.order_review.repository import NewNotification

PLATFORM = "douyin"
MAX_MESSAGES = 500  # far past any push seen; a bound on the work one request asks for
KINDS: Mapping[str, str] = {
    "100": "created",
    "101": "paid",
    "105": "address_changed",
    "106": "cancelled",
    "206": "refunded",
}
WHOLE_ORDER_BEFORE_SHIPMENT = 2  # aftersale_type of a refund success: 发货前整单退款
ANSWER = b'{"code":0,"msg":"success"}'


def read_push(payload: Any) -> tuple[list[NewNotification], int]:
    """The push's order notifications, and how many of its messages were other kinds; raises
    WebhookRejected (422) naming the message and field that is wrong."""
    if not isinstance(payload, list):
        raise unprocessable("抖店 pushes a JSON array of messages")
    if len(payload) > MAX_MESSAGES:
        raise unprocessable(f"more than {MAX_MESSAGES} messages in one push")
    found: list[NewNotification] = []
    ignored = 0
    for index, message in enumerate(payload):
        notification = _message(index, message)
        if notification is None:
            ignored += 1
        else:
            found.append(notification)
    return found, ignored


def _message(index: int, message: Any) -> NewNotification | None:
    if not isinstance(message, Mapping):
        raise unprocessable("must be a message object", [index])
    raw_tag = message.get("tag")
    tag = digits_id(raw_tag) if isinstance(raw_tag, int) else text(raw_tag)
    if tag is None:
        raise unprocessable("required: the message's tag", [index, "tag"])
    kind = KINDS.get(tag)
    if kind is None:
        return None
    msg_id = text(message.get("msg_id"))
    if msg_id is None or len(msg_id) > 128:
        raise unprocessable("required: the message id (at most 128 characters)", [index, "msg_id"])
    data = _data(index, message.get("data"))
    order_id = digits_id(data.get("p_id"))
    if order_id is None:
        raise unprocessable("required: the shop order id, digits", [index, "data", "p_id"])
    shop_id = digits_id(data.get("shop_id"))
    if shop_id is None:
        raise unprocessable("required: the shop id, digits", [index, "data", "shop_id"])
    if kind == "refunded" and data.get("aftersale_type") != WHOLE_ORDER_BEFORE_SHIPMENT:
        return None  # a refund after shipment: aftersales' case, not a change of the order
    return NewNotification(PLATFORM, msg_id, shop_id, order_id, kind)


def _data(index: int, raw: Any) -> Mapping[str, Any]:
    """data is a JSON object written as text (a plain object is read too)."""
    if isinstance(raw, Mapping):
        return raw
    if not isinstance(raw, str):
        raise unprocessable("required: the message's data, a JSON object as text", [index, "data"])
    try:
        return decode_json(raw.encode())
    except WebhookRejected as exc:
        reason = exc.detail[0]["msg"] if isinstance(exc.detail, list) else exc.detail
        raise unprocessable(f"data: {reason}", [index, "data"]) from exc
