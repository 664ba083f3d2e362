"""JD (JOS): MD5 signature with the body as 360buy_param_json, and mapping of orderInfo."""

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

from lvyue.order_review.platforms import ADAPTERS, JdAdapter, PayloadError, SignatureError

SAMPLE = Path(__file__).parents[2] / "data" / "jd_order.json"
APP_KEY = "7A3C19E05D2B4F6A8C1E2D3F4A5B6C7D"
SECRET = "5f1e2d3c4b5a69788796a5b4c3d2e1f0"
NOW = datetime(2024, 6, 18, 13, 0, tzinfo=UTC)  # 21:00 in Shanghai
SIGNED_AT = "2024-06-18 20:59:30"
adapter = JdAdapter()


def secrets(platform: str, shop: str) -> str | None:
    return SECRET if (platform, shop) == ("jd", APP_KEY) else None


def reference_sign(params: dict[str, str], body: bytes, secret: str = SECRET) -> str:
    """JOS's documented rule with the body as 360buy_param_json, written out independently."""
    signed = {**params, "360buy_param_json": body.decode()}
    text = secret + "".join(k + signed[k] for k in sorted(signed)) + secret
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
        "app_key": APP_KEY,
        "method": "jingdong.pop.order.get",
        "timestamp": SIGNED_AT,
        "v": "2.0",
        "format": "json",
    }
    params.update(extra)
    return {**params, "sign": reference_sign(params, body)}


# --- verification -------------------------------------------------------------------------


def test_signed_request_verifies(raw: bytes) -> None:
    adapter.verify(headers_for(raw), raw, secrets, now=NOW)
    starlette = Headers(raw=[(k.encode(), v.encode()) for k, v in headers_for(raw).items()])
    adapter.verify(starlette, raw, secrets, now=NOW)


def test_body_sorts_first_as_360buy_param_json(raw: bytes) -> None:
    # Digits sort before letters: the body leads the signed string, right after the secret.
    text = SECRET + "360buy_param_json" + raw.decode() + "app_key" + APP_KEY
    text += "formatjsonmethodjingdong.pop.order.gettimestamp" + SIGNED_AT + "v2.0" + SECRET
    headers = headers_for(raw)
    assert headers["sign"] == hashlib.md5(text.encode()).hexdigest().upper()


def test_tampered_body_is_a_signature_mismatch(raw: bytes) -> None:
    tampered = raw.replace(b'"orderPayment": "238.00"', b'"orderPayment": "2.38"')
    assert tampered != raw
    with pytest.raises(SignatureError, match="signature mismatch"):
        adapter.verify(headers_for(raw), tampered, secrets, now=NOW)


def test_tampered_sign_is_a_mismatch(raw: bytes) -> None:
    headers = headers_for(raw)
    headers["sign"] = headers["sign"][:-1] + ("0" if headers["sign"][-1] != "0" else "1")
    with pytest.raises(SignatureError, match="signature mismatch"):
        adapter.verify(headers, raw, secrets, now=NOW)


def test_non_utf8_body_is_refused(raw: bytes) -> None:
    with pytest.raises(SignatureError, match="not UTF-8"):
        adapter.verify(headers_for(raw), b"\xff\xfe", secrets, now=NOW)


@pytest.mark.parametrize("missing", ["sign", "app_key", "timestamp"])
def test_missing_parameter_is_named(raw: bytes, missing: str) -> None:
    headers = headers_for(raw)
    del headers[missing]
    with pytest.raises(SignatureError, match=f"parameter {missing} missing"):
        adapter.verify(headers, raw, secrets, now=NOW)


def test_unknown_app_key_is_refused(raw: bytes) -> None:
    with pytest.raises(SignatureError, match=re.escape("unknown app_key 'STRANGER'")):
        adapter.verify(headers_for(raw, app_key="STRANGER"), raw, secrets, now=NOW)


@pytest.mark.parametrize("minutes", [-11, 11])
def test_stale_or_future_timestamp_is_refused(raw: bytes, minutes: int) -> None:
    with pytest.raises(SignatureError, match="timestamp outside the allowed 0:10:00"):
        adapter.verify(headers_for(raw), raw, secrets, now=NOW + timedelta(minutes=minutes))


def test_jos_own_six_minutes_can_be_configured(raw: bytes) -> None:
    strict = JdAdapter(tolerance=timedelta(minutes=6))
    strict.verify(headers_for(raw), raw, secrets, now=NOW + timedelta(minutes=5))
    with pytest.raises(SignatureError, match="outside the allowed 0:06:00"):
        strict.verify(headers_for(raw), raw, secrets, now=NOW + timedelta(minutes=7))


def test_malformed_timestamp_is_refused(raw: bytes) -> None:
    with pytest.raises(SignatureError, match="timestamp malformed"):
        adapter.verify(headers_for(raw, timestamp="1718715570"), raw, secrets, now=NOW)


def test_other_sign_method_is_refused(raw: bytes) -> None:
    with pytest.raises(SignatureError, match="sign_method 'hmac' not supported"):
        adapter.verify(headers_for(raw, sign_method="hmac"), raw, secrets, now=NOW)


# --- identity -----------------------------------------------------------------------------


def test_shop_is_the_vender_id(raw: bytes, payload: dict[str, Any]) -> None:
    assert adapter.shop_id(headers_for(raw), payload) == "10086123"
    assert adapter.delivery_id(headers_for(raw), payload) is None
    del payload["orderInfo"]["venderId"]
    with pytest.raises(PayloadError) as exc:
        adapter.shop_id({}, payload)
    assert [loc for loc, _ in exc.value.field_errors] == ["orderInfo.venderId"]


# --- mapping ------------------------------------------------------------------------------


def test_documented_order_maps_to_the_canonical_order(payload: dict[str, Any]) -> None:
    order = adapter.to_canonical({}, payload)

    assert (order.platform, order.shop_id) == ("jd", "10086123")
    assert order.platform_order_id == "301928374650"
    assert (order.buyer_id, order.buyer_nick) == (
        "o1Qx9KZbT3mPqL7vW2sYcR8dN4fH",
        "jd_4f8a2c71d3e9b",
    )
    receiver = order.receiver
    assert (receiver.name, receiver.phone) == ("王芳", "15912345678")
    address = receiver.address
    assert (address.country, address.province, address.city, address.district) == (
        "CN",
        "广东",
        "广州市",
        "天河区",
    )
    assert address.street == "珠江新城街道花城大道85号高德置地广场A座2201"

    assert [(ln.sku, ln.name, ln.quantity, ln.unit_price) for ln in order.lines] == [
        ("LY-KETTLE-1.5L", "绿悦 电热水壶 1.5L 304不锈钢", 2, Decimal("129.00")),
    ]
    amounts = order.amounts
    assert amounts.goods_total == Decimal("258.00")
    assert amounts.shipping_fee == Decimal("0.00")
    assert amounts.discount == Decimal("20.00")
    assert amounts.paid_total == Decimal("238.00")

    assert order.paid_at == datetime(2024, 6, 18, 20, 59, 2, tzinfo=timezone(timedelta(hours=8)))
    assert order.paid_at.utcoffset() == timedelta(hours=8)
    assert order.paid is True
    assert (order.urgent, order.promotion) == (False, False)
    assert order.remarks == "买家留言：工作日送货，到了打电话\n卖家备注：赠品已备"


def test_big_numeric_order_id_survives_exactly(payload: dict[str, Any]) -> None:
    big = 9007199254740993  # 2^53 + 1: a float would make it ...992
    assert float(big) != big
    payload["orderInfo"]["orderId"] = big
    assert adapter.to_canonical({}, payload).platform_order_id == "9007199254740993"


@pytest.mark.parametrize("bad_id", [None, 3.01928374650e11, True, "JD-301928374650"])
def test_order_id_must_be_exact_digits(payload: dict[str, Any], bad_id: Any) -> None:
    payload["orderInfo"]["orderId"] = bad_id
    with pytest.raises(PayloadError) as exc:
        adapter.to_canonical({}, payload)
    assert [loc for loc, _ in exc.value.field_errors] == ["orderInfo.orderId"]


@pytest.mark.parametrize(
    ("state", "paid"),
    [
        ("WAIT_SELLER_STOCK_OUT", True),
        ("WAIT_GOODS_RECEIVE_CONFIRM", True),
        ("FINISHED_L", True),
        ("LOCKED", True),
        ("TRADE_CANCELED", False),
        ("SOMETHING_NEW", False),
    ],
)
def test_order_state_sets_the_paid_flag(payload: dict[str, Any], state: str, paid: bool) -> None:
    payload["orderInfo"]["orderState"] = state
    assert adapter.to_canonical({}, payload).paid is paid


@pytest.mark.parametrize("placeholder", [None, "", "0001-01-01 00:00:00"])
def test_order_time_stands_in_without_a_payment_time(
    payload: dict[str, Any], placeholder: Any
) -> None:
    payload["orderInfo"]["paymentConfirmTime"] = placeholder
    assert adapter.to_canonical({}, payload).paid_at == datetime(
        2024, 6, 18, 12, 58, 41, tzinfo=UTC
    )


def test_masked_consignee_is_mapped_as_given(payload: dict[str, Any]) -> None:
    payload["orderInfo"]["consigneeInfo"].update(fullname="王*", mobile="159****5678")
    receiver = adapter.to_canonical({}, payload).receiver
    assert (receiver.name, receiver.phone) == ("王*", "159****5678")


def test_phone_falls_back_to_the_telephone(payload: dict[str, Any]) -> None:
    payload["orderInfo"]["consigneeInfo"].update(mobile="", telephone="020-38881234")
    assert adapter.to_canonical({}, payload).receiver.phone == "020-38881234"


def test_town_is_kept_in_front_of_the_street(payload: dict[str, Any]) -> None:
    payload["orderInfo"]["consigneeInfo"]["fullAddress"] = "花城大道85号"
    street = adapter.to_canonical({}, payload).receiver.address.street
    assert street == "珠江新城街道花城大道85号"


def test_seller_code_falls_back_to_the_sku_id(payload: dict[str, Any]) -> None:
    payload["orderInfo"]["itemInfoList"][0]["outerSkuId"] = ""
    assert adapter.to_canonical({}, payload).lines[0].sku == "sku:100012345678"


def test_missing_consignee_is_named(payload: dict[str, Any]) -> None:
    del payload["orderInfo"]["consigneeInfo"]
    with pytest.raises(PayloadError) as exc:
        adapter.to_canonical({}, payload)
    assert exc.value.field_errors == [
        ("orderInfo.consigneeInfo", "required: the order has no consignee")
    ]


def test_all_field_errors_are_reported_together(payload: dict[str, Any]) -> None:
    info = payload["orderInfo"]
    del info["orderPayment"]
    info["consigneeInfo"]["city"] = ""
    info["itemInfoList"][0]["itemTotal"] = "0"
    info["itemInfoList"].append("LY-KETTLE")
    info["paymentConfirmTime"] = "18/06/2024"
    with pytest.raises(PayloadError) as exc:
        adapter.to_canonical({}, payload)
    assert {loc for loc, _ in exc.value.field_errors} == {
        "orderInfo.orderPayment",
        "orderInfo.consigneeInfo.city",
        "orderInfo.itemInfoList[0].itemTotal",
        "orderInfo.itemInfoList[1]",
        "orderInfo.paymentConfirmTime",
    }


def test_registered_as_jd() -> None:
    assert isinstance(ADAPTERS.get("jd"), JdAdapter)
