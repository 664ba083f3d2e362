"""Pinduoduo: MD5 signature over parameters and body, and mapping of order_info."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from starlette.datastructures import Headers

from lvyue.order_review.platforms import (
    ADAPTERS,
    PayloadError,
    PinduoduoAdapter,
    SignatureError,
)

SAMPLE = Path(__file__).parents[2] / "data" / "pinduoduo_order.json"
CLIENT_ID = "3f8e0d1c2b3a4f5e6d7c8b9a0f1e2d3c"
SECRET = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
NOW = datetime(2024, 6, 18, 11, 45, tzinfo=UTC)  # 19:45 in Shanghai
SIGNED_AT = str(int(datetime(2024, 6, 18, 11, 44, 30, tzinfo=UTC).timestamp()))
adapter = PinduoduoAdapter()


def secrets(platform: str, shop: str) -> str | None:
    return SECRET if (platform, shop) == ("pinduoduo", CLIENT_ID) else None


def reference_sign(params: dict[str, str], body: bytes, secret: str = SECRET) -> str:
    text = secret + "".join(k + params[k] for k in sorted(params)) + body.decode() + secret
    return hashlib.md5(text.encode()).hexdigest().upper()


@pytest.fixture
def raw() -> bytes:
    return SAMPLE.read_bytes()


@pytest.fixture
def payload(raw: bytes) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(raw)
    return data


def headers_for(body: bytes, **extra: str) -> dict[str, str]:
    params = {
        "client_id": CLIENT_ID,
        "type": "pdd.order.information.get",
        "timestamp": SIGNED_AT,
        "data_type": "JSON",
        "version": "V1",
    }
    params.update(extra)
    return {**params, "sign": reference_sign(params, body)}


HEADERS = {"client_id": CLIENT_ID}


# --- verification -------------------------------------------------------------------------


def test_signed_request_verifies(raw: bytes) -> None:
    adapter.verify(headers_for(raw), raw, secrets, now=NOW)
    upper = Headers(raw=[(k.upper().encode(), v.encode()) for k, v in headers_for(raw).items()])
    adapter.verify(upper, raw, secrets, now=NOW)


def test_tampered_body_is_a_signature_mismatch(raw: bytes) -> None:
    tampered = raw.replace(b'"pay_amount": 109.8', b'"pay_amount": 1.8')
    assert tampered != raw
    with pytest.raises(SignatureError, match="signature mismatch"):
        adapter.verify(headers_for(raw), tampered, secrets, now=NOW)


@pytest.mark.parametrize("field", ["sign", "type", "timestamp"])
def test_tampered_parameter_or_sign_is_a_mismatch(raw: bytes, field: str) -> None:
    headers = headers_for(raw)
    if field == "sign":
        headers["sign"] = headers["sign"].lower()  # Pinduoduo's sign is upper-case hex
    elif field == "type":
        headers["type"] = "pdd.order.list.get"
    else:
        headers["timestamp"] = str(int(SIGNED_AT) + 1)
    with pytest.raises(SignatureError, match="signature mismatch"):
        adapter.verify(headers, raw, secrets, now=NOW)


@pytest.mark.parametrize("missing", ["sign", "client_id", "timestamp"])
def test_missing_parameter_is_named(raw: bytes, missing: str) -> None:
    headers = headers_for(raw)
    del headers[missing]
    with pytest.raises(SignatureError, match=f"parameter {missing} missing"):
        adapter.verify(headers, raw, secrets, now=NOW)


def test_unknown_client_id_is_refused(raw: bytes) -> None:
    with pytest.raises(SignatureError, match=re.escape("unknown client_id 'stranger'")):
        adapter.verify(headers_for(raw, client_id="stranger"), raw, secrets, now=NOW)


@pytest.mark.parametrize("minutes", [-11, 11])
def test_stale_or_future_timestamp_is_refused(raw: bytes, minutes: int) -> None:
    with pytest.raises(SignatureError, match="timestamp outside the allowed 0:10:00"):
        adapter.verify(headers_for(raw), raw, secrets, now=NOW + timedelta(minutes=minutes))


def test_tolerance_is_configurable(raw: bytes) -> None:
    lenient = PinduoduoAdapter(tolerance=timedelta(minutes=30))
    lenient.verify(headers_for(raw), raw, secrets, now=NOW + timedelta(minutes=20))


@pytest.mark.parametrize("bad", ["2024-06-18 19:44:30", "1.7e9", "-1718711070"])
def test_malformed_timestamp_is_refused(raw: bytes, bad: str) -> None:
    with pytest.raises(SignatureError, match="timestamp malformed: expected unix seconds"):
        adapter.verify(headers_for(raw, timestamp=bad), raw, secrets, now=NOW)


# --- identity -----------------------------------------------------------------------------


def test_shop_is_the_client_id(raw: bytes, payload: dict[str, Any]) -> None:
    assert adapter.shop_id(headers_for(raw), payload) == CLIENT_ID
    assert adapter.delivery_id(headers_for(raw), payload) is None
    with pytest.raises(PayloadError) as exc:
        adapter.shop_id({}, payload)
    assert exc.value.field_errors == [("client_id", "parameter missing")]


# --- mapping ------------------------------------------------------------------------------


def test_documented_order_maps_to_the_canonical_order(payload: dict[str, Any]) -> None:
    order = adapter.to_canonical(HEADERS, payload)

    assert (order.platform, order.shop_id) == ("pinduoduo", CLIENT_ID)
    assert order.platform_order_id == "240618-523760187440571"
    assert (order.buyer_id, order.buyer_nick) == (None, None)
    receiver = order.receiver
    assert (receiver.name, receiver.phone) == ("陈晓明", "18628123456")
    address = receiver.address
    assert (address.country, address.province, address.city, address.district) == (
        "CN",
        "四川省",
        "成都市",
        "武侯区",
    )
    assert address.street == "桂溪街道天府大道北段1700号环球中心W6区1208"

    assert [(ln.sku, ln.name, ln.quantity, ln.unit_price) for ln in order.lines] == [
        ("LY-TOWEL-3P", "绿悦 纯棉毛巾 三条装", 2, Decimal("29.90")),
        ("sku:1198765432110", "绿悦 加厚浴巾", 1, Decimal("60.00")),
    ]
    amounts = order.amounts
    assert amounts.goods_total == Decimal("119.80")
    assert amounts.shipping_fee == Decimal("0.00")
    assert amounts.discount == Decimal("10.00")
    assert amounts.paid_total == Decimal("109.80")

    assert order.paid_at == datetime(2024, 6, 18, 19, 42, 37, tzinfo=timezone(timedelta(hours=8)))
    assert order.paid_at.utcoffset() == timedelta(hours=8)
    assert order.paid is True
    assert (order.urgent, order.promotion) == (False, False)
    assert order.remarks == "买家留言：不要放快递柜"


def test_yuan_as_strings_or_json_numbers_is_exact(payload: dict[str, Any]) -> None:
    # A JSON number is read back as the decimal it was written as, never via binary rounding.
    payload["order_info"].update(pay_amount="109.80", goods_amount=json.loads("119.8"))
    amounts = adapter.to_canonical(HEADERS, payload).amounts
    assert amounts.paid_total == Decimal("109.80")
    assert amounts.goods_total == Decimal("119.80")


def test_sub_fen_amount_is_refused_not_rounded(payload: dict[str, Any]) -> None:
    payload["order_info"]["pay_amount"] = json.loads("109.805")
    with pytest.raises(PayloadError) as exc:
        adapter.to_canonical(HEADERS, payload)
    assert [loc for loc, _ in exc.value.field_errors] == ["order_info.pay_amount"]


def test_big_sku_id_in_the_fallback_survives_exactly(payload: dict[str, Any]) -> None:
    item = payload["order_info"]["item_list"][1]
    item["sku_id"] = 2**53 + 1
    assert adapter.to_canonical(HEADERS, payload).lines[1].sku == "sku:9007199254740993"


@pytest.mark.parametrize(
    ("confirm_status", "pay_time", "paid"),
    [
        (1, "2024-06-18 19:42:37", True),
        (0, "2024-06-18 19:42:37", False),  # 拼团中: paid, but not yet a deal
        (2, "2024-06-18 19:42:37", False),  # 已取消
        (None, "2024-06-18 19:42:37", True),
        (None, None, False),
    ],
)
def test_confirm_status_sets_the_paid_flag(
    payload: dict[str, Any], confirm_status: Any, pay_time: Any, paid: bool
) -> None:
    info = payload["order_info"]
    info["pay_time"] = pay_time
    if confirm_status is None:
        del info["confirm_status"]
    else:
        info["confirm_status"] = confirm_status
    order = adapter.to_canonical(HEADERS, payload)
    assert order.paid is paid
    if pay_time is None:
        assert order.paid_at == datetime(2024, 6, 18, 11, 42, 10, tzinfo=UTC)  # created_time


def test_masked_receiver_is_used_when_the_plain_one_is_gone(payload: dict[str, Any]) -> None:
    info = payload["order_info"]
    info.update(receiver_name="", receiver_phone=None, receiver_address="")
    receiver = adapter.to_canonical(HEADERS, payload).receiver
    assert (receiver.name, receiver.phone) == ("陈**", "186****3456")
    assert receiver.address.street == "桂溪街道天府大道北段****"


def test_ciphertext_in_the_plain_field_yields_to_the_mask(payload: dict[str, Any]) -> None:
    info = payload["order_info"]
    info["receiver_phone"] = "~AgAAAAFVQd4BxHt3RQH7DvFyfHNkG7EU3aUrZ+ksgqk=~HjNuovfJ~1~~"
    info["receiver_name"] = "~AgAAAAFVQd4CCw9TOQH7DvFc5KcOHoQoSLbP8k7yWSI=~vFq4~1~~"
    receiver = adapter.to_canonical(HEADERS, payload).receiver
    assert (receiver.name, receiver.phone) == ("陈**", "186****3456")
    info["receiver_phone_mask"] = ""
    phone = adapter.to_canonical(HEADERS, payload).receiver.phone
    assert phone == info["receiver_phone"][:32]  # cut to fit; review flags it


def test_masked_phone_in_the_plain_field_is_mapped_as_given(payload: dict[str, Any]) -> None:
    payload["order_info"]["receiver_phone"] = "1862812****"
    assert adapter.to_canonical(HEADERS, payload).receiver.phone == "1862812****"


@pytest.mark.parametrize("body", [{}, {"order_info": []}, {"order_info_get_response": {}}])
def test_body_without_order_info_is_named(body: dict[str, Any]) -> None:
    with pytest.raises(PayloadError) as exc:
        adapter.to_canonical(HEADERS, body)
    assert [loc for loc, _ in exc.value.field_errors] == ["order_info"]


def test_missing_required_field_is_named(payload: dict[str, Any]) -> None:
    del payload["order_info"]["order_sn"]
    with pytest.raises(PayloadError) as exc:
        adapter.to_canonical(HEADERS, payload)
    assert exc.value.field_errors == [("order_info.order_sn", "required: the order number")]


def test_all_field_errors_are_reported_together(payload: dict[str, Any]) -> None:
    info = payload["order_info"]
    info["pay_amount"] = -1
    info["province"] = None
    for field in ("receiver_phone", "receiver_phone_mask"):
        info[field] = ""
    info["item_list"][0]["goods_count"] = None
    info["item_list"][1]["goods_price"] = "六十"
    info["pay_time"] = "昨天"
    with pytest.raises(PayloadError) as exc:
        adapter.to_canonical(HEADERS, payload)
    assert {loc for loc, _ in exc.value.field_errors} == {
        "order_info.pay_amount",
        "order_info.province",
        "order_info.receiver_phone",
        "order_info.item_list[0].goods_count",
        "order_info.item_list[1].goods_price",
        "order_info.pay_time",
    }


def test_registered_as_pinduoduo() -> None:
    assert isinstance(ADAPTERS.get("pinduoduo"), PinduoduoAdapter)
