"""Taobao/Tmall (TOP): SPI signature, parameters and mapping of trade.fullinfo.get's trade."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from starlette.datastructures import Headers

from lvyue.common import platform_signing
from lvyue.order_review.platforms import (
    ADAPTERS,
    PayloadError,
    SignatureError,
    TaobaoAdapter,
)

SAMPLE = Path(__file__).parents[2] / "data" / "taobao_order.json"
APP_KEY = "34567890"
SECRET = "b7e1c0ffee5a4d6e9f0a1b2c3d4e5f60"
NOW = datetime(2024, 6, 18, 13, 6, tzinfo=UTC)  # 21:06 in Shanghai
SIGNED_AT = "2024-06-18 21:05:40"
adapter = TaobaoAdapter()


def secrets(platform: str, shop: str) -> str | None:
    return SECRET if (platform, shop) == ("taobao", APP_KEY) else None


def reference_md5(params: dict[str, str], body: bytes, secret: str = SECRET) -> str:
    """The documented rule, written out independently of the adapter."""
    text = secret + "".join(k + params[k] for k in sorted(params)) + body.decode() + secret
    return hashlib.md5(text.encode()).hexdigest().upper()


@pytest.fixture
def raw() -> bytes:
    return SAMPLE.read_bytes()


@pytest.fixture
def payload(raw: bytes) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(raw)  # stdlib json: big ints stay exact ints
    return data


def params_for(**extra: str) -> dict[str, str]:
    params = {
        "app_key": APP_KEY,
        "method": "taobao.trade.fullinfo.get",
        "timestamp": SIGNED_AT,
        "format": "json",
        "v": "2.0",
        "sign_method": "md5",
    }
    params.update(extra)
    return params


def headers_for(body: bytes, **extra: str) -> dict[str, str]:
    params = params_for(**extra)
    return {**params, "sign": reference_md5(params, body), "Content-Type": "application/json"}


# --- verification -------------------------------------------------------------------------


def test_signed_request_verifies(raw: bytes) -> None:
    adapter.verify(headers_for(raw), raw, secrets, now=NOW)


def test_parameter_names_are_case_insensitive_as_headers(raw: bytes) -> None:
    lower = {k.lower(): v for k, v in headers_for(raw).items()}
    starlette = Headers(raw=[(k.encode(), v.encode()) for k, v in lower.items()])
    adapter.verify(starlette, raw, secrets, now=NOW)


def test_documented_example_orders_parameters_by_name() -> None:
    params = {"foo": "1", "bar": "2", "foo_bar": "3", "foobar": "4"}
    expected = hashlib.md5(b"helloworldbar2foo1foo_bar3foobar4helloworld").hexdigest().upper()
    assert platform_signing.sign(params, "helloworld", b"", "md5") == expected


def test_qimen_customer_id_keeps_its_spelling(raw: bytes) -> None:
    params = params_for(customerId="c1024")
    headers = {**params, "sign": reference_md5(params, raw)}
    adapter.verify({k.lower(): v for k, v in headers.items()}, raw, secrets, now=NOW)


@pytest.mark.parametrize(
    ("method", "digest"), [("hmac", hashlib.md5), ("hmac-sha256", hashlib.sha256)]
)
def test_hmac_sign_methods_verify(raw: bytes, method: str, digest: Any) -> None:
    params = params_for(sign_method=method)
    message = "".join(k + params[k] for k in sorted(params)).encode() + raw
    sign = hmac.new(SECRET.encode(), message, digest).hexdigest().upper()
    adapter.verify({**params, "sign": sign}, raw, secrets, now=NOW)


def test_headers_named_in_top_sign_list_are_signed_url_decoded(raw: bytes) -> None:
    params = params_for()
    signed = {**params, "x-relay-shop": "绿悦 旗舰店"}
    headers = {
        **params,
        "top-sign-list": "x-relay-shop",
        "x-relay-shop": "%E7%BB%BF%E6%82%A6+%E6%97%97%E8%88%B0%E5%BA%97",
        "sign": reference_md5(signed, raw),
    }
    adapter.verify(headers, raw, secrets, now=NOW)
    headers["x-relay-shop"] = "%E5%88%AB%E5%AE%B6"
    with pytest.raises(SignatureError, match="signature mismatch"):
        adapter.verify(headers, raw, secrets, now=NOW)


def test_tampered_body_is_a_signature_mismatch(raw: bytes) -> None:
    tampered = raw.replace(b'"payment": "377.00"', b'"payment": "1.00"')
    assert tampered != raw
    with pytest.raises(SignatureError, match="signature mismatch"):
        adapter.verify(headers_for(raw), tampered, secrets, now=NOW)


def test_tampered_parameter_is_a_signature_mismatch(raw: bytes) -> None:
    headers = headers_for(raw)
    headers["method"] = "taobao.trade.get"
    with pytest.raises(SignatureError, match="signature mismatch"):
        adapter.verify(headers, raw, secrets, now=NOW)


@pytest.mark.parametrize(
    "bad",
    [
        "0" * 32,
        "not-a-sign",
        "签名",
        pytest.param("lower", id="lower-case-hex-is-not-TOP-hex"),
    ],
)
def test_wrong_sign_is_a_mismatch_not_a_crash(raw: bytes, bad: str) -> None:
    headers = headers_for(raw)
    headers["sign"] = headers["sign"].lower() if bad == "lower" else bad
    with pytest.raises(SignatureError, match="signature mismatch"):
        adapter.verify(headers, raw, secrets, now=NOW)


def test_sign_from_another_secret_is_a_mismatch(raw: bytes) -> None:
    headers = headers_for(raw)
    headers["sign"] = reference_md5(params_for(), raw, secret="another-secret")
    with pytest.raises(SignatureError, match="signature mismatch"):
        adapter.verify(headers, raw, secrets, now=NOW)


@pytest.mark.parametrize("missing", ["sign", "app_key", "timestamp"])
def test_missing_parameter_is_named(raw: bytes, missing: str) -> None:
    headers = headers_for(raw)
    del headers[missing]
    with pytest.raises(SignatureError, match=f"parameter {missing} missing"):
        adapter.verify(headers, raw, secrets, now=NOW)


def test_unknown_app_key_is_refused(raw: bytes) -> None:
    headers = headers_for(raw, app_key="99999999")
    with pytest.raises(SignatureError, match=re.escape("unknown app_key '99999999'")):
        adapter.verify(headers, raw, secrets, now=NOW)


@pytest.mark.parametrize("minutes", [-11, 11])
def test_stale_or_future_timestamp_is_refused(raw: bytes, minutes: int) -> None:
    with pytest.raises(SignatureError, match="timestamp outside the allowed 0:10:00"):
        adapter.verify(headers_for(raw), raw, secrets, now=NOW + timedelta(minutes=minutes))


def test_tolerance_is_configurable(raw: bytes) -> None:
    later = NOW + timedelta(minutes=3)
    adapter.verify(headers_for(raw), raw, secrets, now=later)
    with pytest.raises(SignatureError, match="outside the allowed 0:02:00"):
        TaobaoAdapter(tolerance=timedelta(minutes=2)).verify(
            headers_for(raw), raw, secrets, now=later
        )


@pytest.mark.parametrize("bad", ["1718715940", "2024-06-18T21:05:40+08:00", "昨天"])
def test_malformed_timestamp_is_refused(raw: bytes, bad: str) -> None:
    with pytest.raises(SignatureError, match="timestamp malformed"):
        adapter.verify(headers_for(raw, timestamp=bad), raw, secrets, now=NOW)


def test_unknown_sign_method_is_refused(raw: bytes) -> None:
    with pytest.raises(SignatureError, match="sign_method 'rsa' not supported"):
        adapter.verify(headers_for(raw, sign_method="rsa"), raw, secrets, now=NOW)


# --- identity -----------------------------------------------------------------------------


def test_shop_is_the_seller_nick_and_there_is_no_delivery_id(
    raw: bytes, payload: dict[str, Any]
) -> None:
    assert adapter.shop_id(headers_for(raw), payload) == "绿悦家居旗舰店"
    assert adapter.delivery_id(headers_for(raw), payload) is None


def test_missing_seller_nick_is_a_payload_error(payload: dict[str, Any]) -> None:
    del payload["trade"]["seller_nick"]
    with pytest.raises(PayloadError) as exc:
        adapter.shop_id({}, payload)
    assert [loc for loc, _ in exc.value.field_errors] == ["trade.seller_nick"]


def test_tmall_instance_uses_its_own_slug_and_secrets(raw: bytes, payload: dict[str, Any]) -> None:
    tmall = TaobaoAdapter(name="tmall")
    with pytest.raises(SignatureError, match="unknown app_key"):
        tmall.verify(headers_for(raw), raw, secrets, now=NOW)
    tmall.verify(headers_for(raw), raw, lambda p, s: SECRET if p == "tmall" else None, now=NOW)
    assert tmall.to_canonical({}, payload).platform == "tmall"


# --- mapping ------------------------------------------------------------------------------


def test_documented_trade_maps_to_the_canonical_order(payload: dict[str, Any]) -> None:
    order = adapter.to_canonical({}, payload)

    assert (order.platform, order.shop_id) == ("taobao", "绿悦家居旗舰店")
    assert order.platform_order_id == "3895627318400539271"
    assert (order.buyer_id, order.buyer_nick) == ("AAHk5d-EAAeGwJedwSKtNFJE", "t**2")
    receiver = order.receiver
    assert (receiver.name, receiver.phone) == ("李娜", "13812345678")
    address = receiver.address
    assert (address.country, address.province, address.city, address.district) == (
        "CN",
        "浙江省",
        "杭州市",
        "西湖区",
    )
    assert address.street == "文新街道文一西路588号西溪首座3幢1502室"
    assert address.postal_code == "310012"

    assert [(ln.sku, ln.name, ln.quantity, ln.unit_price) for ln in order.lines] == [
        ("LY-PILLOW-M-GRY", "绿悦 记忆棉护颈枕 中号 灰色", 2, Decimal("139.00")),
        ("LY-CASE-60", "绿悦 纯棉枕套 一对装", 1, Decimal("119.00")),
    ]
    amounts = order.amounts
    assert amounts.currency == "CNY"
    assert amounts.goods_total == Decimal("397.00")
    assert amounts.shipping_fee == Decimal("0.00")
    assert amounts.discount == Decimal("20.00")
    assert amounts.paid_total == Decimal("377.00")

    assert order.paid_at == datetime(2024, 6, 18, 21, 5, 33, tzinfo=timezone(timedelta(hours=8)))
    assert order.paid_at.utcoffset() == timedelta(hours=8)
    assert order.paid is True
    assert order.urgent is False
    assert order.promotion is True  # trade_from JHS: 聚划算
    assert order.remarks == "买家留言：请发顺丰，谢谢\n卖家备注：已核对库存"


def test_big_numeric_tid_survives_exactly(raw: bytes, payload: dict[str, Any]) -> None:
    match = re.search(rb'"tid": (\d+),', raw)
    assert match is not None
    digits = match.group(1).decode()
    assert int(digits) > 2**53
    assert str(int(float(digits))) != digits  # a float would have rounded it
    del payload["trade"]["tid_str"]
    assert adapter.to_canonical({}, payload).platform_order_id == digits


def test_float_tid_is_refused(payload: dict[str, Any]) -> None:
    del payload["trade"]["tid_str"]
    payload["trade"]["tid"] = float(payload["trade"]["tid"])
    with pytest.raises(PayloadError) as exc:
        adapter.to_canonical({}, payload)
    assert exc.value.field_errors == [
        ("trade.tid", "a float may have rounded the id; send tid_str")
    ]


@pytest.mark.parametrize(
    ("status", "paid"),
    [
        ("WAIT_SELLER_SEND_GOODS", True),
        ("SELLER_CONSIGNED_PART", True),
        ("WAIT_BUYER_CONFIRM_GOODS", True),
        ("TRADE_FINISHED", True),
        ("PAID_FORBID_CONSIGN", True),
        ("WAIT_BUYER_PAY", False),
        ("TRADE_NO_CREATE_PAY", False),
        ("PAY_PENDING", False),
        ("TRADE_CLOSED_BY_TAOBAO", False),
        (None, False),
    ],
)
def test_status_sets_the_paid_flag(payload: dict[str, Any], status: Any, paid: bool) -> None:
    payload["trade"]["status"] = status
    assert adapter.to_canonical({}, payload).paid is paid


def test_unpaid_trade_falls_back_to_its_creation_time(payload: dict[str, Any]) -> None:
    payload["trade"].update(status="WAIT_BUYER_PAY", pay_time=None)
    order = adapter.to_canonical({}, payload)
    assert order.paid is False
    assert order.paid_at == datetime(2024, 6, 18, 13, 3, 12, tzinfo=UTC)


def test_masked_receiver_is_mapped_as_given(payload: dict[str, Any]) -> None:
    payload["trade"].update(receiver_name="李*", receiver_mobile="138****5678")
    receiver = adapter.to_canonical({}, payload).receiver
    assert (receiver.name, receiver.phone) == ("李*", "138****5678")


def test_phone_falls_back_to_the_landline(payload: dict[str, Any]) -> None:
    payload["trade"].update(receiver_mobile="", receiver_phone="0571-88886666")
    assert adapter.to_canonical({}, payload).receiver.phone == "0571-88886666"


def test_city_level_district_becomes_the_city(payload: dict[str, Any]) -> None:
    payload["trade"].update(receiver_state="河南省", receiver_city="", receiver_district="济源市")
    address = adapter.to_canonical({}, payload).receiver.address
    assert (address.city, address.district) == ("济源市", "")


def test_next_day_shipping_is_urgent(payload: dict[str, Any]) -> None:
    payload["trade"].update(shipping_type="25", trade_from="TAOBAO")
    order = adapter.to_canonical({}, payload)
    assert (order.urgent, order.promotion) == (True, False)


def test_orders_may_come_as_a_plain_list(payload: dict[str, Any]) -> None:
    payload["trade"]["orders"] = payload["trade"]["orders"]["order"][:1]
    assert [ln.sku for ln in adapter.to_canonical({}, payload).lines] == ["LY-PILLOW-M-GRY"]


def test_seller_code_falls_back_to_taobao_ids(payload: dict[str, Any]) -> None:
    item = payload["trade"]["orders"]["order"][0]
    item["outer_sku_id"] = ""
    assert adapter.to_canonical({}, payload).lines[0].sku == "LY-PILLOW"
    item["outer_iid"] = None
    assert adapter.to_canonical({}, payload).lines[0].sku == "sku:4987654321098"


@pytest.mark.parametrize("body", [{}, {"trade": "x"}, {"trade_fullinfo_get_response": {}}])
def test_body_without_a_trade_is_named(body: dict[str, Any]) -> None:
    with pytest.raises(PayloadError) as exc:
        adapter.to_canonical({}, body)
    assert [loc for loc, _ in exc.value.field_errors] == ["trade"]


def test_missing_required_field_is_named(payload: dict[str, Any]) -> None:
    del payload["trade"]["receiver_state"]
    with pytest.raises(PayloadError) as exc:
        adapter.to_canonical({}, payload)
    assert exc.value.field_errors == [("trade.receiver_state", "required")]


def test_all_field_errors_are_reported_together(payload: dict[str, Any]) -> None:
    trade = payload["trade"]
    del trade["payment"]
    trade["receiver_mobile"] = trade["receiver_phone"] = ""
    trade["receiver_name"] = None
    trade["orders"]["order"][0]["num"] = 0
    trade["orders"]["order"][1]["price"] = "9.999"
    trade["pay_time"] = "2024/06/18 21:05"
    with pytest.raises(PayloadError) as exc:
        adapter.to_canonical({}, payload)
    assert {loc for loc, _ in exc.value.field_errors} == {
        "trade.payment",
        "trade.receiver_mobile",
        "trade.receiver_name",
        "trade.orders.order[0].num",
        "trade.orders.order[1].price",
        "trade.pay_time",
    }


def test_long_remarks_are_truncated_not_rejected(payload: dict[str, Any]) -> None:
    payload["trade"]["buyer_message"] = "备" * 2500
    assert len(adapter.to_canonical({}, payload).remarks) == 2000


def test_registry_knows_every_platform() -> None:
    assert {"taobao", "jd", "pinduoduo", "douyin", "shopify", "lvyue"} <= set(ADAPTERS)
    assert isinstance(ADAPTERS.get("taobao"), TaobaoAdapter)
    for name, registered in ADAPTERS.items():
        assert registered.name == name


@pytest.mark.parametrize("status", [["WAIT_SELLER_SEND_GOODS"], {"x": 1}, None, 3.5])
def test_a_status_of_the_wrong_type_counts_as_unpaid_not_a_crash(
    payload: dict[str, Any], status: object
) -> None:
    payload["trade"]["status"] = status
    assert adapter.to_canonical({}, payload).paid is False


def test_invisible_characters_are_dropped_from_remarks_not_rejected(
    payload: dict[str, Any],
) -> None:
    """A note is read by people only: like a long one, a pasted zero-width space or an escape
    must not bounce a paid order; the remark keeps the visible text and its lines."""
    payload["trade"]["buyer_message"] = "请发\u200b顺丰\u001b[0m，谢谢\u202e"
    payload["trade"]["seller_memo"] = "已核对\t库存"
    remark = adapter.to_canonical({}, payload).remarks
    assert remark == "买家留言：请发顺丰[0m，谢谢\n卖家备注：已核对\t库存"


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("receiver_name", "张\u202e三", "trade.receiver_name"),
        ("buyer_nick", "小李\u200b", "trade.buyer_nick"),
        ("seller_nick", "店" * 129, "trade.seller_nick"),
        ("receiver_mobile", "１３８００１３８０００", "trade.receiver_mobile"),
    ],
)
def test_the_contracts_refusals_name_the_trades_fields(
    payload: dict[str, Any], field: str, value: str, path: str
) -> None:
    payload["trade"][field] = value
    with pytest.raises(PayloadError) as refused:
        adapter.to_canonical({}, payload)
    assert [loc for loc, _ in refused.value.field_errors] == [path]


@pytest.mark.parametrize(
    ("pay_time", "now", "refused"),
    [
        ("9999-12-31 23:59:59", NOW, True),
        ("2024-06-20 00:00:00", NOW, True),  # 35 hours after the request's clock
        ("2024-06-19 13:00:00", NOW, False),  # 16 hours after: a clock that drifts
        ("1999-12-31 23:59:59", NOW, True),
        ("1999-12-31 23:59:59", None, True),  # without a clock, the earliest bound still holds
        ("9999-12-31 23:59:59", None, False),  # and no other: a pull's caller passes its clock
    ],
)
def test_the_pay_time_is_bounded_by_the_requests_clock(
    payload: dict[str, Any], pay_time: str, now: datetime | None, refused: bool
) -> None:
    payload["trade"]["pay_time"] = pay_time
    if not refused:
        assert adapter.to_canonical({}, payload, now=now).paid_at.year in (2024, 9999)
        return
    with pytest.raises(PayloadError) as caught:
        adapter.to_canonical({}, payload, now=now)
    assert [loc for loc, _ in caught.value.field_errors] == ["trade.pay_time"]
