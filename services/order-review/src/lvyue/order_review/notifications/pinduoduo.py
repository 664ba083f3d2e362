"""Pinduoduo's 消息服务: the frames of its WebSocket, read into notifications and acks.

The seller's system connects to wss://message-api.pinduoduo.com/message/{client_id}/{ms}/{sign}
(platform_signing.pdd_message_sign) and keeps it alive with a heartbeat every few seconds. The
server sends JSON frames (the PDD Java SDK's WsClient and ServerMessage; open.pinduoduo.com
消息服务接入):
    {"commandType": "Common", "id": 123, "time": ms, "sendTime": ms,
     "message": {"type": "pdd_trade_TradeConfirmed", "mallID": 456,
                 "content": "{\\"tid\\": \\"240618-523760187440571\\", \\"mall_id\\": 456}"}}
    {"commandType": "HeartBeat", "time": ms}     and "Fail" frames, which name no order
and a message the client does not acknowledge with
    {"commandType": "Ack", "time": ms, "id": 123, "sendTime": ms,
     "type": "pdd_trade_TradeConfirmed", "mallID": 456}
is delivered again. The types lvyue reads: pdd_trade_TradeConfirmed (交易确认: paid, group
formed, to be shipped), pdd_trade_TradeLogisticsAddressChanged (修改交易收货地址: the order's
new receiver is fetched) and pdd_refund_RefundCreated (a refund asked for: the order is looked
at again; 退款成功 before shipment cancels it). Other types are acknowledged and not stored.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lvyue.common.webhooks import WebhookRejected, decode_json
from lvyue.common.webhooks.fields import digits_id, text
from lvyue.order_review.repository import NewNotification

PLATFORM = "pinduoduo"
MAX_FRAME_BYTES = 64 * 1024  # a message names one order: far below this
MAX_ID_DIGITS = 32  # a frame's id: a 64-bit number has 20 digits
KINDS: Mapping[str, str] = {
    "pdd_trade_TradeConfirmed": "paid",
    "pdd_trade_TradeLogisticsAddressChanged": "address_changed",
    "pdd_refund_RefundCreated": "refund_requested",
}


class FrameError(ValueError):
    """A frame that cannot be read: logged and acknowledged (the pull finds its order)."""


@dataclass(frozen=True)
class Frame:
    command: str
    ack: str | None  # the acknowledgement to send once the frame is stored
    notification: NewNotification | None


def read_frame(raw: str | bytes, client_id: str) -> Frame:
    """One frame of the app's connection (its shop is the app: one app per mall)."""
    body = raw.encode() if isinstance(raw, str) else raw
    if len(body) > MAX_FRAME_BYTES:
        raise FrameError(f"frame over {MAX_FRAME_BYTES} bytes")
    frame = _object(body, "frame")
    command = text(frame.get("commandType")) or ""
    if command != "Common":
        return Frame(command, None, None)
    message = frame.get("message")
    if not isinstance(message, Mapping):
        raise FrameError("Common frame without its message")
    frame_id, sent = frame.get("id"), frame.get("sendTime")
    message_id = digits_id(frame_id)
    # bounded as TOP's message ids are: it is stored under a unique index, and a row too wide
    # for the index would fail the insert on every redelivery
    if message_id is None or len(message_id) > MAX_ID_DIGITS:
        raise FrameError(f"Common frame without its id (digits, at most {MAX_ID_DIGITS})")
    kind_name = text(message.get("type")) or ""
    ack = json.dumps(
        {"commandType": "Ack", "time": int(time.time() * 1000), "id": frame_id,
         "sendTime": sent, "type": kind_name, "mallID": message.get("mallID")},
        separators=(",", ":"),
    )  # fmt: skip
    kind = KINDS.get(kind_name)
    if kind is None:
        return Frame(command, ack, None)
    content = message.get("content")
    if not isinstance(content, str):
        raise FrameError("message content is not JSON text")
    order_sn = text(_object(content.encode(), "content").get("tid"))
    if order_sn is None or len(order_sn) > 64:
        raise FrameError("message content without its order (tid)")
    notification = NewNotification(PLATFORM, f"{client_id}:{message_id}", client_id, order_sn, kind)
    return Frame(command, ack, notification)


def heartbeat() -> str:
    return json.dumps({"commandType": "HeartBeat", "time": int(time.time() * 1000)})


def _object(body: bytes, what: str) -> Mapping[str, Any]:
    try:
        return decode_json(body)
    except WebhookRejected as exc:
        reason = exc.detail[0]["msg"] if isinstance(exc.detail, list) else exc.detail
        raise FrameError(f"{what}: {reason}") from exc
