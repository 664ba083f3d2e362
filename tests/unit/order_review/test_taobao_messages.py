"""淘宝's message queue (TMC) read through the gateway: trade messages read into notifications,
other topics only confirmed, hostile messages named and confirmed without being stored, a
hostile answer refused whole."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from lvyue.common.platform_signing import top_call_params
from lvyue.order_review.notifications.taobao import MessagesError, read_consumed

SELLER = "绿悦家居旗舰店"


def message(topic: str = "taobao_trade_TradeBuyerPay", **content: Any) -> dict[str, Any]:
    body = {
        "tid": 3912345678901234567,
        "oid": 3912345678901234568,
        "seller_nick": SELLER,
        "buyer_nick": "t**1",
        "status": "WAIT_SELLER_SEND_GOODS",
        "payment": "168.00",
    }
    body = {k: v for k, v in (body | content).items() if v is not None}
    return {"id": 7104300007405429232, "topic": topic, "user_id": 1, "user_nick": SELLER,
            "pub_time": "2026-12-05 10:00:00", "pub_app_key": "12497914",
            "content": json.dumps(body, ensure_ascii=False)}  # fmt: skip


def answer(*messages: Any) -> dict[str, Any]:
    return {"tmc_messages_consume_response": {"messages": {"tmc_message": list(messages)}}}


def test_a_paid_trade_is_a_paid_notification_of_the_seller_and_is_confirmed() -> None:
    consumed = read_consumed(answer(message()))
    (notification,) = consumed.notifications
    assert (notification.platform, notification.shop_id) == ("taobao", SELLER)
    assert (notification.platform_order_id, notification.kind) == ("3912345678901234567", "paid")
    assert notification.message_id == "7104300007405429232"
    assert consumed.confirm == ["7104300007405429232"]
    assert (consumed.ignored, consumed.unreadable) == (0, [])


@pytest.mark.parametrize(
    ("topic", "kind"),
    [
        ("taobao_trade_TradeCreate", "created"),
        ("taobao_trade_TradeClose", "cancelled"),
        ("taobao_trade_TradeLogisticsAddressChanged", "address_changed"),
    ],
)
def test_the_trade_topics_lvyue_follows(topic: str, kind: str) -> None:
    (notification,) = read_consumed(answer(message(topic))).notifications
    assert notification.kind == kind


def test_other_topics_are_confirmed_not_stored_and_an_empty_queue_is_nothing() -> None:
    consumed = read_consumed(answer(message("taobao_trade_TradeSellerShip")))
    assert (consumed.notifications, consumed.confirm, consumed.ignored) == (
        [], ["7104300007405429232"], 1
    )  # fmt: skip
    empty = read_consumed({"tmc_messages_consume_response": {}})
    assert (empty.notifications, empty.confirm, empty.unreadable) == ([], [], [])


def test_the_seller_comes_from_the_content_when_the_message_has_no_nick() -> None:
    found = message() | {"user_nick": ""}
    (notification,) = read_consumed(answer(found)).notifications
    assert notification.shop_id == SELLER


DEEP = '{"a":' * 40 + "1" + "}" * 40
HOSTILE_MESSAGES: list[tuple[str, Any, str, bool]] = [
    # (case, message, what is named, whether its id is confirmed)
    ("not an object", [1], "not an object", False),
    ("no id", {k: v for k, v in message().items() if k != "id"}, "no id", False),
    ("an id of 40 digits", message() | {"id": "9" * 40}, "no id", False),
    ("a float id", message() | {"id": 7.1e18}, "no id", False),
    ("content over 64 KiB", message() | {"content": " " * 70_000}, "content is not", True),
    ("content not JSON", message() | {"content": "{tid"}, "content is not", True),
    ("content nested 40 deep", message() | {"content": DEEP}, "content is not", True),
    ("content an object already", message() | {"content": {"tid": 1}}, "content is not", True),
    ("no tid", message(tid=None), "without its trade", True),
    ("a tid of text", message(tid="abc"), "without its trade", True),
    ("no seller", message(seller_nick=None) | {"user_nick": None}, "no seller", True),
    ("a seller of 200 characters", message() | {"user_nick": "x" * 200}, "no seller", True),
]


@pytest.mark.parametrize(
    ("raw", "says", "confirmed"),
    [pytest.param(m, s, c, id=n) for n, m, s, c in HOSTILE_MESSAGES],
)
def test_a_hostile_message_is_named_and_stores_nothing(
    raw: Any, says: str, confirmed: bool
) -> None:
    consumed = read_consumed(answer(raw, message()))
    (problem,) = consumed.unreadable
    assert problem.startswith("message 0:")
    assert says in problem
    assert len(consumed.notifications) == 1  # its neighbour is read
    assert len(consumed.confirm) == (2 if confirmed else 1)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param({}, id="no consume response"),
        pytest.param({"tmc_messages_consume_response": []}, id="a response that is a list"),
        pytest.param(
            {"tmc_messages_consume_response": {"messages": {"tmc_message": {}}}},
            id="messages not a list",
        ),
        pytest.param(answer(*[message()] * 201), id="over 200 messages"),
    ],
)
def test_a_hostile_answer_is_refused_whole(raw: dict[str, Any]) -> None:
    with pytest.raises(MessagesError):
        read_consumed(raw)


def test_an_app_level_gateway_call_carries_no_session() -> None:
    now = datetime(2026, 12, 5, tzinfo=UTC)
    app = top_call_params("taobao.tmc.messages.consume", {}, app_key="k", secret="s",
                          session="", now=now)  # fmt: skip
    shop = top_call_params("taobao.trade.fullinfo.get", {}, app_key="k", secret="s",
                           session="t", now=now)  # fmt: skip
    assert "session" not in app
    assert shop["session"] == "t"
