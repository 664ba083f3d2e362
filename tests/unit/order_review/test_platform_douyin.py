"""抖店 (Douyin shop): event-sign, app-id and mapping of order.orderDetail's data."""

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

from lvyue.order_review.platforms import ADAPTERS, DouyinAdapter, PayloadError, SignatureError

SAMPLE = Path(__file__).parents[2] / "data" / "douyin_order.json"
APP_KEY = "7123456789012345678"
SECRET = "2ad2355c-01d0-11f8-91dc-05a8cd1054b1"
NOW = datetime(2024, 6, 18, 13, 6, tzinfo=UTC)
adapter = DouyinAdapter()


def secrets(platform: str, shop: str) -> str | None:
    return SECRET if (platform, shop) == ("douyin", APP_KEY) else None


def reference_sign(body: bytes, app_key: str = APP_KEY, secret: str = SECRET) -> str:
    return hashlib.md5(f"{app_key}{body.decode()}{secret}".encode()).hexdigest()


@pytest.fixture
def raw() -> bytes:
    return SAMPLE.read_bytes()


@pytest.fixture
def payload(raw: bytes) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(raw)
    return data


def headers_for(body: bytes, **extra: str) -> dict[str, str]:
    headers = {
        "app-id": APP_KEY,
        "event-sign": reference_sign(body),
        "Content-Type": "application/json",
    }
    headers.update(extra)
    return headers


# --- verification -------------------------------------------------------------------------


def test_signed_request_verifies(raw: bytes) -> None:
    adapter.verify(headers_for(raw), raw, secrets, now=NOW)


def test_headers_and_hex_case_do_not_matter(raw: bytes) -> None:
    headers = {
        k.title(): v.upper() if k == "event-sign" else v for k, v in headers_for(raw).items()
    }
    adapter.verify(headers, raw, secrets, now=NOW)
    starlette = Headers(raw=[(k.encode(), v.encode()) for k, v in headers_for(raw).items()])
    adapter.verify(starlette, raw, secrets, now=NOW)


def test_explicit_md5_sign_method_verifies(raw: bytes) -> None:
    adapter.verify(headers_for(raw, **{"sign-method": "MD5"}), raw, secrets, now=NOW)


def test_no_timestamp_is_signed_so_time_does_not_matter(raw: bytes) -> None:
    adapter.verify(headers_for(raw), raw, secrets, now=NOW + timedelta(days=30))


def test_tampered_body_is_a_signature_mismatch(raw: bytes) -> None:
    tampered = raw.replace(b'"pay_amount": 17800', b'"pay_amount": 1')
    assert tampered != raw
    with pytest.raises(SignatureError, match="signature mismatch"):
        adapter.verify(headers_for(raw), tampered, secrets, now=NOW)


@pytest.mark.parametrize(
    "bad",
    [
        reference_sign(b"{}"),
        reference_sign(b"x", secret="another-secret"),
        "not-hex",
        "签名",
    ],
)
def test_wrong_sign_is_a_mismatch_not_a_crash(raw: bytes, bad: str) -> None:
    with pytest.raises(SignatureError, match="signature mismatch"):
        adapter.verify(headers_for(raw, **{"event-sign": bad}), raw, secrets, now=NOW)


def test_sign_of_another_app_key_is_a_mismatch(raw: bytes) -> None:
    headers = headers_for(raw, **{"event-sign": reference_sign(raw, app_key="7000000000000000000")})
    with pytest.raises(SignatureError, match="signature mismatch"):
        adapter.verify(headers, raw, secrets, now=NOW)


@pytest.mark.parametrize("missing", ["event-sign", "app-id"])
def test_missing_header_is_named(raw: bytes, missing: str) -> None:
    headers = headers_for(raw)
    del headers[missing]
    with pytest.raises(SignatureError, match=f"header {missing} missing"):
        adapter.verify(headers, raw, secrets, now=NOW)


def test_unknown_app_id_is_refused(raw: bytes) -> None:
    headers = headers_for(raw, **{"app-id": "7000000000000000000"})
    with pytest.raises(SignatureError, match=re.escape("unknown app-id '7000000000000000000'")):
        adapter.verify(headers, raw, secrets, now=NOW)


def test_other_sign_method_is_refused(raw: bytes) -> None:
    with pytest.raises(SignatureError, match="sign-method 'hmac-sha256' not supported"):
        adapter.verify(headers_for(raw, **{"sign-method": "hmac-sha256"}), raw, secrets, now=NOW)


# --- identity -----------------------------------------------------------------------------


def test_shop_is_the_orders_shop_id(raw: bytes, payload: dict[str, Any]) -> None:
    assert adapter.shop_id(headers_for(raw), payload) == "88451234"
    assert adapter.delivery_id(headers_for(raw), payload) is None
    del payload["shop_order_detail"]["shop_id"]
    with pytest.raises(PayloadError) as exc:
        adapter.shop_id({}, payload)
    assert [loc for loc, _ in exc.value.field_errors] == ["shop_order_detail.shop_id"]


# --- mapping ------------------------------------------------------------------------------


def test_documented_order_maps_to_the_canonical_order(payload: dict[str, Any]) -> None:
    order = adapter.to_canonical({}, payload)

    assert (order.platform, order.shop_id) == ("douyin", "88451234")
    assert order.platform_order_id == "6919283746501234567"
    assert order.buyer_id == "1@#Zm9vYmFyMTIzNDU2Nzg5MGFiY2RlZg=="
    receiver = order.receiver
    assert (receiver.name, receiver.phone) == ("赵*", "135****5678")  # masked twins
    address = receiver.address
    assert (address.country, address.province, address.city, address.district) == (
        "CN",
        "上海市",
        "上海市",
        "浦东新区",
    )
    assert address.street == "花木街道锦绣路****"

    assert [(ln.sku, ln.name, ln.quantity, ln.unit_price) for ln in order.lines] == [
        ("LY-LATEX-1", "绿悦 泰国进口乳胶枕 单只装", 2, Decimal("99.00")),
    ]
    amounts = order.amounts
    assert amounts.goods_total == Decimal("198.00")  # sum_amount 19800 fen
    assert amounts.shipping_fee == Decimal("0.00")
    assert amounts.discount == Decimal("20.00")
    assert amounts.paid_total == Decimal("178.00")

    assert order.paid_at == datetime(2024, 6, 18, 13, 5, 33, tzinfo=UTC)  # pay_time 1718715933
    assert order.paid_at.utcoffset() == timedelta(hours=8)
    assert order.paid is True
    assert (order.urgent, order.promotion) == (False, False)
    assert order.remarks == "买家留言：送人的，不要放价格单\n卖家备注：优先发"


def test_nineteen_digit_order_id_survives_exactly(raw: bytes, payload: dict[str, Any]) -> None:
    digits = "6919283746501234567"
    assert int(digits) > 2**53
    assert str(int(float(digits))) != digits
    payload["shop_order_detail"]["order_id"] = int(digits)  # even sent as a JSON number
    assert adapter.to_canonical({}, payload).platform_order_id == digits


@pytest.mark.parametrize(
    ("fen", "yuan"),
    [(1, "0.01"), (10, "0.10"), (9900, "99.00"), (123456789, "1234567.89"), ("2000", "20.00")],
)
def test_fen_become_exact_yuan(payload: dict[str, Any], fen: Any, yuan: str) -> None:
    payload["shop_order_detail"]["pay_amount"] = fen
    assert adapter.to_canonical({}, payload).amounts.paid_total == Decimal(yuan)


@pytest.mark.parametrize("bad", [178.0, "178.00", None, True])
def test_non_integer_fen_is_refused(payload: dict[str, Any], bad: Any) -> None:
    payload["shop_order_detail"]["pay_amount"] = bad
    with pytest.raises(PayloadError) as exc:
        adapter.to_canonical({}, payload)
    assert [loc for loc, _ in exc.value.field_errors] == ["shop_order_detail.pay_amount"]


def test_negative_fen_is_refused(payload: dict[str, Any]) -> None:
    payload["shop_order_detail"]["post_amount"] = -500
    with pytest.raises(PayloadError) as exc:
        adapter.to_canonical({}, payload)
    assert [loc for loc, _ in exc.value.field_errors] == ["shop_order_detail.post_amount"]


@pytest.mark.parametrize(
    ("status", "paid"),
    [(1, False), (105, True), (2, True), (101, True), (3, True), (5, True), (4, False)],
)
def test_order_status_sets_the_paid_flag(payload: dict[str, Any], status: int, paid: bool) -> None:
    payload["shop_order_detail"]["order_status"] = status
    assert adapter.to_canonical({}, payload).paid is paid


def test_unpaid_order_falls_back_to_its_creation_time(payload: dict[str, Any]) -> None:
    payload["shop_order_detail"].update(order_status=1, pay_time=0)
    order = adapter.to_canonical({}, payload)
    assert order.paid is False
    assert order.paid_at == datetime(2024, 6, 18, 13, 5, 1, tzinfo=UTC)


def test_plain_receiver_wins_over_masked_and_encrypted(payload: dict[str, Any]) -> None:
    detail = payload["shop_order_detail"]
    detail.update(post_receiver="赵磊", post_tel="13512345678")
    detail["post_addr"]["detail"] = "锦绣路1001弄5号601室"
    receiver = adapter.to_canonical({}, payload).receiver
    assert (receiver.name, receiver.phone) == ("赵磊", "13512345678")
    assert receiver.address.street == "花木街道锦绣路1001弄5号601室"


def test_ciphertext_is_mapped_when_nothing_else_is_there(payload: dict[str, Any]) -> None:
    detail = payload["shop_order_detail"]
    del detail["mask_post_receiver"], detail["mask_post_tel"], detail["mask_post_addr"]
    receiver = adapter.to_canonical({}, payload).receiver
    # Longer than the contract allows: cut to fit, so the paid order is taken in and review
    # flags the phone; the raw body keeps the whole ciphertext.
    assert receiver.phone == detail["encrypt_post_tel"][:32]
    assert receiver.name == detail["encrypt_post_receiver"][:64]
    assert receiver.address.street == "花木街道" + detail["post_addr"]["encrypt_detail"]


def test_seller_code_falls_back_to_ids(payload: dict[str, Any]) -> None:
    item = payload["shop_order_detail"]["sku_order_list"][0]
    item["code"] = ""
    assert adapter.to_canonical({}, payload).lines[0].sku == "sku:1769876543210987"
    item["out_sku_id"] = "LY-EXT-77"
    assert adapter.to_canonical({}, payload).lines[0].sku == "LY-EXT-77"


def test_goods_total_falls_back_to_the_lines(payload: dict[str, Any]) -> None:
    del payload["shop_order_detail"]["sku_order_list"][0]["sum_amount"]
    assert adapter.to_canonical({}, payload).amounts.goods_total == Decimal("198.00")


@pytest.mark.parametrize("body", [{}, {"data": {}}, {"shop_order_detail": None}])
def test_body_without_the_detail_is_named(body: dict[str, Any]) -> None:
    with pytest.raises(PayloadError) as exc:
        adapter.to_canonical({}, body)
    assert [loc for loc, _ in exc.value.field_errors] == ["shop_order_detail"]


def test_missing_required_field_is_named(payload: dict[str, Any]) -> None:
    del payload["shop_order_detail"]["post_addr"]["city"]
    with pytest.raises(PayloadError) as exc:
        adapter.to_canonical({}, payload)
    assert exc.value.field_errors == [("shop_order_detail.post_addr.city.name", "required")]


def test_all_field_errors_are_reported_together(payload: dict[str, Any]) -> None:
    detail = payload["shop_order_detail"]
    del detail["order_id"]
    detail["mask_post_tel"] = ""
    del detail["encrypt_post_tel"]
    item = detail["sku_order_list"][0]
    item["item_num"] = 0
    item["origin_amount"] = 99.5
    detail["pay_time"] = "2024-06-18 21:05:33"
    with pytest.raises(PayloadError) as exc:
        adapter.to_canonical({}, payload)
    assert {loc for loc, _ in exc.value.field_errors} == {
        "shop_order_detail.order_id",
        "shop_order_detail.post_tel",
        "shop_order_detail.sku_order_list[0].item_num",
        "shop_order_detail.sku_order_list[0].origin_amount",
        "shop_order_detail.pay_time",
    }


def test_registered_as_douyin() -> None:
    assert isinstance(ADAPTERS.get("douyin"), DouyinAdapter)
    assert DouyinAdapter().to_canonical({}, json.loads(SAMPLE.read_bytes())).paid_at.tzinfo == (
        timezone(timedelta(hours=8), "Asia/Shanghai")
    )
