"""Pinduoduo's message-service frames: order messages read into notifications with their ack,
other frames passed by, hostile frames refused by name before any work."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest

from lvyue.common.platform_signing import pdd_message_sign
from lvyue.order_review.notifications.pinduoduo import FrameError, heartbeat, read_frame

APP = "client-1"


def common(kind: str = "pdd_trade_TradeConfirmed", **content: Any) -> dict[str, Any]:
    body = {"tid": "240618-523760187440571", "mall_id": 456} | content
    return {
        "commandType": "Common", "id": 987, "time": 1, "sendTime": 2,
        "message": {"type": kind, "mallID": 456, "content": json.dumps(body)},
    }  # fmt: skip


def test_a_confirmed_order_is_a_paid_notification_acknowledged_by_id() -> None:
    frame = read_frame(json.dumps(common()), APP)
    assert frame.notification is not None
    assert (frame.notification.platform, frame.notification.shop_id) == ("pinduoduo", APP)
    assert frame.notification.platform_order_id == "240618-523760187440571"
    assert (frame.notification.kind, frame.notification.message_id) == ("paid", f"{APP}:987")
    assert frame.ack is not None
    ack = json.loads(frame.ack)
    assert {k: ack[k] for k in ("commandType", "id", "sendTime", "type", "mallID")} == {
        "commandType": "Ack", "id": 987, "sendTime": 2, "type": "pdd_trade_TradeConfirmed",
        "mallID": 456,
    }  # fmt: skip


def test_an_address_change_is_read() -> None:
    frame = read_frame(json.dumps(common("pdd_trade_TradeLogisticsAddressChanged")), APP)
    assert frame.notification is not None
    assert frame.notification.kind == "address_changed"


def test_a_refund_asked_for_is_read_other_types_are_only_acknowledged() -> None:
    refund = read_frame(json.dumps(common("pdd_refund_RefundCreated")), APP)
    assert refund.notification is not None
    assert refund.notification.kind == "refund_requested"
    other = read_frame(json.dumps(common("pdd_trade_TradeSellerShip")), APP)
    assert (other.notification, other.ack is not None) == (None, True)


def test_heartbeats_are_neither_stored_nor_acknowledged() -> None:
    frame = read_frame(heartbeat(), APP)
    assert (frame.command, frame.ack, frame.notification) == ("HeartBeat", None, None)


def test_the_connection_sign_is_base64_of_the_hex_md5() -> None:
    hex_md5 = hashlib.md5(b"client-11700000000000s3cret").hexdigest()
    expected = base64.b64encode(hex_md5.encode()).decode()
    assert pdd_message_sign("client-1", "1700000000000", "s3cret") == expected


DEEP = '{"a":' * 40 + "1" + "}" * 40
PAID = {"type": "pdd_trade_TradeConfirmed", "mallID": 456}
NO_TEXT = json.dumps(common() | {"message": PAID | {"content": {"tid": "1"}}})
NESTED = json.dumps(common() | {"message": PAID | {"content": DEEP}})
HOSTILE: list[tuple[str, str | bytes, str]] = [
    ("over 64 KiB", b"{" + b" " * 70_000 + b"}", "over 65536 bytes"),
    ("not JSON", "{commandType", "malformed JSON"),
    ("an array", "[1, 2]", "must be a JSON object"),
    ("a key twice", '{"commandType": "Common", "commandType": "HeartBeat"}', "twice"),
    ("no message", json.dumps({"commandType": "Common", "id": 1}), "without its message"),
    ("no id", json.dumps({k: v for k, v in common().items() if k != "id"}), "without its id"),
    # as text: the JSON parser's 20-digit bound is on numbers only
    ("an id of 33 digits", json.dumps(common() | {"id": "1" * 33}), "at most 32"),
    ("an id of 20,000 digits", json.dumps(common() | {"id": "97" * 10_000}), "at most 32"),
    ("an id that is not digits", json.dumps(common() | {"id": "12a"}), "without its id"),
    ("content not text", NO_TEXT, "not JSON text"),
    ("content without tid", json.dumps(common(tid=None)), "without its order"),
    ("a tid of 100 characters", json.dumps(common(tid="9" * 100)), "without its order"),
    ("content nested 40 deep", NESTED, "nesting"),
]


def test_an_id_of_32_digits_given_as_text_is_read() -> None:
    frame = read_frame(json.dumps(common() | {"id": " " + "9" * 32}), APP)
    assert frame.notification is not None
    assert frame.notification.message_id == f"{APP}:{'9' * 32}"
    assert frame.ack is not None
    assert json.loads(frame.ack)["id"] == " " + "9" * 32  # acknowledged as it was given


@pytest.mark.parametrize(("raw", "says"), [pytest.param(r, s, id=n) for n, r, s in HOSTILE])
def test_a_hostile_frame_is_refused_naming_what_is_wrong(raw: str | bytes, says: str) -> None:
    with pytest.raises(FrameError, match=says):
        read_frame(raw, APP)
