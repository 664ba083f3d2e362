"""淘宝's message service (TMC), read over TOP's gateway: what one consume call answered, read into
notifications and the message ids to confirm.

TMC keeps an app's messages (for every seller who authorised it) until they are confirmed; a
message not confirmed is delivered again. Besides its long-connection client, TOP serves the
queue by two gateway calls, signed like any other (platform_signing.top_call_params, no
session: the queue is the app's), documented on open.taobao.com and in the TOP SDKs' request
classes (TmcMessagesConsumeRequest, TmcMessagesConfirmRequest):
    taobao.tmc.messages.consume  group_name (default "default"), quantity (at most 200)
        -> {"tmc_messages_consume_response": {"messages": {"tmc_message": [
               {"id": 7104300007405429232, "topic": "taobao_trade_TradeBuyerPay",
                "user_id": 1234, "user_nick": "<seller nick>", "pub_time": "...",
                "pub_app_key": "...", "content": "{\\"tid\\": 3..., \\"seller_nick\\": ...}"}]}}}
        ("messages" is absent when the queue is empty)
    taobao.tmc.messages.confirm  group_name, s_message_ids (comma-separated)
        -> {"tmc_messages_confirm_response": {"is_success": true}}
The trade topics lvyue reads (淘宝交易 messages; content carries tid, oid, seller_nick,
buyer_nick, status, payment):
    taobao_trade_TradeCreate                   created
    taobao_trade_TradeBuyerPay                 paid
    taobao_trade_TradeClose                    closed: refunded or never paid, not to ship
    taobao_trade_TradeLogisticsAddressChanged  the buyer changed the receiver
Other topics are confirmed and not stored. The shop is the seller's nick, as in pulls/taobao.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lvyue.common.webhooks import WebhookRejected, decode_json
from lvyue.common.webhooks.fields import digits_id, text
from lvyue.order_review.repository import NewNotification

PLATFORM = "taobao"
CONSUME = "taobao.tmc.messages.consume"
CONFIRM = "taobao.tmc.messages.confirm"
MAX_QUANTITY = 200  # the consume call's limit
MAX_CONTENT_CHARS = 64 * 1024  # a trade message names one trade: far below this
KINDS: Mapping[str, str] = {
    "taobao_trade_TradeCreate": "created",
    "taobao_trade_TradeBuyerPay": "paid",
    "taobao_trade_TradeClose": "cancelled",
    "taobao_trade_TradeLogisticsAddressChanged": "address_changed",
}


class MessagesError(ValueError):
    """A consume answer that is not a message list: nothing of it is stored or confirmed."""


@dataclass
class Consumed:
    """One consume call's messages: the order notifications, and every id to confirm once they
    are stored (those of other topics and unreadable ones too: the shop's pull finds their
    orders, and a message never confirmed would come back forever)."""

    notifications: list[NewNotification] = field(default_factory=list)
    confirm: list[str] = field(default_factory=list)
    ignored: int = 0
    unreadable: list[str] = field(default_factory=list)  # why, per message not read


def read_consumed(answer: Mapping[str, Any]) -> Consumed:
    found = answer.get("tmc_messages_consume_response")
    if not isinstance(found, Mapping):
        raise MessagesError("淘宝 answered without tmc_messages_consume_response")
    messages = found.get("messages")
    if messages is None:
        return Consumed()
    listed = messages.get("tmc_message") if isinstance(messages, Mapping) else None
    if not isinstance(listed, list) or len(listed) > MAX_QUANTITY:
        raise MessagesError(f"淘宝's messages are not a list of at most {MAX_QUANTITY}")
    consumed = Consumed()
    for index, message in enumerate(listed):
        problem = _read(message, consumed)
        if problem is not None:
            consumed.unreadable.append(f"message {index}: {problem}")
    return consumed


def _read(message: Any, consumed: Consumed) -> str | None:
    """Adds the message to what was consumed; what is wrong with it, if anything."""
    if not isinstance(message, Mapping):
        return "not an object"
    message_id = digits_id(message.get("id"))
    if message_id is None or len(message_id) > 32:
        return "no id, digits (it cannot even be confirmed)"
    consumed.confirm.append(message_id)
    kind = KINDS.get(str(message.get("topic")))
    if kind is None:
        consumed.ignored += 1
        return None
    content = _content(message.get("content"))
    if content is None:
        return f"content is not a JSON object of at most {MAX_CONTENT_CHARS} characters"
    tid = digits_id(content.get("tid"))
    if tid is None or len(tid) > 32:
        return "content without its trade (tid, digits)"
    shop = text(message.get("user_nick")) or text(content.get("seller_nick"))
    if shop is None or len(shop) > 128:
        return "no seller (user_nick, at most 128 characters)"
    consumed.notifications.append(NewNotification(PLATFORM, message_id, shop, tid, kind))
    return None


def _content(raw: Any) -> Mapping[str, Any] | None:
    """content is a JSON object written as text, bounded before it is read."""
    if not isinstance(raw, str) or len(raw) > MAX_CONTENT_CHARS:
        return None
    try:
        return decode_json(raw.encode())
    except WebhookRejected:
        return None
