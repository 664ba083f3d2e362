"""Shopify orders/create: signature, headers and mapping of the documented payload."""

from __future__ import annotations

import base64
import copy
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from starlette.datastructures import Headers

from lvyue.common.security import sign_hmac_sha256
from lvyue.order_review.platforms import (
    ADAPTERS,
    PayloadError,
    ShopifyAdapter,
    SignatureError,
)
from lvyue.order_review.platforms.shopify import AMOUNT

SAMPLE = Path(__file__).parents[2] / "data" / "shopify_orders_create.json"
SHOP = "lvyue-demo.myshopify.com"
SECRET = "shpss_test_secret"
NOW = datetime(2024, 6, 18, 13, 5, tzinfo=UTC)
adapter = ShopifyAdapter()


def secrets(platform: str, shop: str) -> str | None:
    return SECRET if (platform, shop) == ("shopify", SHOP) else None


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(sign_hmac_sha256(secret, body)).decode()


@pytest.fixture
def raw() -> bytes:
    return SAMPLE.read_bytes()


@pytest.fixture
def payload(raw: bytes) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(raw)  # stdlib json: big ints stay exact ints
    return data


def headers_for(body: bytes, **extra: str) -> dict[str, str]:
    headers = {
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Hmac-Sha256": sign(body),
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-API-Version": "2024-07",
        "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "X-Shopify-Event-Id": "7b8c9d0a-1234-5678-90ab-cdef12345678",
    }
    headers.update(extra)
    return headers


# --- verification -------------------------------------------------------------------------


def test_valid_signature_verifies(raw: bytes) -> None:
    adapter.verify(headers_for(raw), raw, secrets, now=NOW)


def test_headers_are_case_insensitive(raw: bytes) -> None:
    lower = {k.lower(): v for k, v in headers_for(raw).items()}
    adapter.verify(lower, raw, secrets, now=NOW)
    starlette = Headers(raw=[(k.encode(), v.encode()) for k, v in lower.items()])
    adapter.verify(starlette, raw, secrets, now=NOW)
    upper = {k.upper(): v for k, v in headers_for(raw).items()}
    adapter.verify(upper, raw, secrets, now=NOW)


def test_shop_domain_case_does_not_matter(raw: bytes) -> None:
    adapter.verify(
        headers_for(raw, **{"X-Shopify-Shop-Domain": SHOP.upper()}), raw, secrets, now=NOW
    )


def test_tampered_body_is_a_signature_mismatch(raw: bytes) -> None:
    tampered = raw.replace(b'"total_price": "388.00"', b'"total_price": "1.00"')
    assert tampered != raw
    with pytest.raises(SignatureError, match="signature mismatch"):
        adapter.verify(headers_for(raw), tampered, secrets, now=NOW)


def test_signature_from_another_secret_is_a_mismatch(raw: bytes) -> None:
    headers = headers_for(raw, **{"X-Shopify-Hmac-Sha256": sign(raw, "other")})
    with pytest.raises(SignatureError, match="signature mismatch"):
        adapter.verify(headers, raw, secrets, now=NOW)


@pytest.mark.parametrize("bad", ["not-base64!!", "Zm9v", sign(b"x").rstrip("=") + "@"])
def test_malformed_signature_is_a_mismatch_not_a_crash(raw: bytes, bad: str) -> None:
    with pytest.raises(SignatureError, match="signature mismatch"):
        adapter.verify(headers_for(raw, **{"X-Shopify-Hmac-Sha256": bad}), raw, secrets, now=NOW)


@pytest.mark.parametrize("missing", ["X-Shopify-Hmac-Sha256", "X-Shopify-Shop-Domain"])
def test_missing_header_is_named(raw: bytes, missing: str) -> None:
    headers = headers_for(raw)
    del headers[missing]
    with pytest.raises(SignatureError, match=f"header {missing} missing"):
        adapter.verify(headers, raw, secrets, now=NOW)


def test_blank_signature_header_counts_as_missing(raw: bytes) -> None:
    with pytest.raises(SignatureError, match="X-Shopify-Hmac-Sha256 missing"):
        adapter.verify(headers_for(raw, **{"X-Shopify-Hmac-Sha256": "  "}), raw, secrets, now=NOW)


def test_unknown_shop_is_refused(raw: bytes) -> None:
    headers = headers_for(raw, **{"X-Shopify-Shop-Domain": "stranger.myshopify.com"})
    with pytest.raises(SignatureError, match=re.escape("unknown shop 'stranger.myshopify.com'")):
        adapter.verify(headers, raw, secrets, now=NOW)


# --- identity -----------------------------------------------------------------------------


def test_delivery_id_and_shop_come_from_headers(raw: bytes, payload: dict[str, Any]) -> None:
    headers = {k.lower(): v for k, v in headers_for(raw).items()}
    headers["x-shopify-shop-domain"] = "LVYUE-Demo.myshopify.com"
    assert adapter.delivery_id(headers, payload) == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    assert adapter.shop_id(headers, payload) == SHOP


def test_delivery_id_is_none_without_the_header(payload: dict[str, Any]) -> None:
    assert adapter.delivery_id({"X-Shopify-Shop-Domain": SHOP}, payload) is None


def test_missing_shop_header_is_a_payload_error(payload: dict[str, Any]) -> None:
    with pytest.raises(PayloadError) as exc:
        adapter.shop_id({}, payload)
    assert exc.value.field_errors == [("X-Shopify-Shop-Domain", "header missing")]


# --- mapping ------------------------------------------------------------------------------


def test_big_order_id_survives_exactly(raw: bytes, payload: dict[str, Any]) -> None:
    match = re.search(rb'^  "id": (\d+),$', raw, re.MULTILINE)
    assert match is not None
    digits = match.group(1).decode()
    assert int(digits) > 2**53
    assert str(int(float(digits))) != digits  # a float would have rounded it
    order = adapter.to_canonical(headers_for(raw), payload)
    assert order.platform_order_id == digits == "820982911946154508"


def test_documented_payload_maps_to_the_canonical_order(
    raw: bytes, payload: dict[str, Any]
) -> None:
    order = adapter.to_canonical(headers_for(raw), payload)

    assert (order.platform, order.shop_id) == ("shopify", SHOP)
    assert order.buyer_id == "115310627314723954"
    assert order.buyer_nick == "zhang.wei@example.com"
    receiver = order.receiver
    assert (receiver.name, receiver.phone) == ("张伟", "+86 138 0013 8000")
    address = receiver.address
    assert (address.country, address.province, address.city) == ("CN", "Shanghai", "Shanghai")
    assert (address.street, address.detail) == ("浦东新区 世纪大道100号", "2号楼 1801室")
    assert (address.district, address.postal_code) == ("", "200120")

    assert [(ln.sku, ln.name, ln.quantity, ln.unit_price) for ln in order.lines] == [
        ("IPOD2008BLACK", "IPod Nano - 8GB", 1, Decimal("199.00")),
        ("variant:457924702", "IPod Nano Case", 2, Decimal("99.50")),
    ]
    amounts = order.amounts
    assert amounts.currency == "CNY"
    assert amounts.goods_total == Decimal("398.00")  # before discounts
    assert amounts.shipping_fee == Decimal("10.00")
    assert amounts.discount == Decimal("20.00")
    assert amounts.paid_total == Decimal("388.00")

    assert order.paid_at == datetime(2024, 6, 18, 13, 5, 33, tzinfo=UTC)
    assert order.paid_at.utcoffset() is not None
    assert order.urgent is True  # tag "加急"
    assert order.promotion is False
    assert order.remarks == "请工作日送货，谢谢"


def test_missing_topic_header_is_accepted(raw: bytes, payload: dict[str, Any]) -> None:
    headers = headers_for(raw)
    del headers["X-Shopify-Topic"]
    assert adapter.to_canonical(headers, payload).platform_order_id == "820982911946154508"


def test_wrong_topic_is_a_payload_error_naming_the_header(
    raw: bytes, payload: dict[str, Any]
) -> None:
    with pytest.raises(PayloadError) as exc:
        adapter.to_canonical(headers_for(raw, **{"x-shopify-topic": "orders/updated"}), payload)
    assert exc.value.field_errors == [
        ("X-Shopify-Topic", "expected 'orders/create', got 'orders/updated'")
    ]


@pytest.mark.parametrize(
    ("tags", "urgent", "promotion"),
    [
        ("", False, False),
        ("urgent", True, False),
        ("VIP, URGENT", True, False),
        ("加急", True, False),
        ("Promotion", False, True),
        ("大促, 加急", True, True),
        ("not-urgent, promotional", False, False),  # whole tags only
        (["urgent", "大促"], True, True),  # GraphQL-style list
        (None, False, False),
    ],
)
def test_tags_set_priority_flags(
    raw: bytes, payload: dict[str, Any], tags: Any, urgent: bool, promotion: bool
) -> None:
    payload["tags"] = tags
    order = adapter.to_canonical(headers_for(raw), payload)
    assert (order.urgent, order.promotion) == (urgent, promotion)


@pytest.mark.parametrize("body", [[], "order", 7, None])
def test_non_object_body_is_a_payload_error(raw: bytes, body: Any) -> None:
    with pytest.raises(PayloadError) as exc:
        adapter.to_canonical(headers_for(raw), body)
    assert exc.value.field_errors == [("body", "must be a JSON object")]


def test_missing_shipping_address_is_named(raw: bytes, payload: dict[str, Any]) -> None:
    del payload["shipping_address"]
    with pytest.raises(PayloadError) as exc:
        adapter.to_canonical(headers_for(raw), payload)
    assert [loc for loc, _ in exc.value.field_errors] == ["shipping_address"]
    assert "shipping_address" in str(exc.value)


@pytest.mark.parametrize("line_items", [None, [], "IPOD"])
def test_missing_line_items_are_named(raw: bytes, payload: dict[str, Any], line_items: Any) -> None:
    payload["line_items"] = line_items
    with pytest.raises(PayloadError) as exc:
        adapter.to_canonical(headers_for(raw), payload)
    assert exc.value.field_errors == [("line_items", "required: at least one line item")]


def test_all_field_errors_are_reported_together(raw: bytes, payload: dict[str, Any]) -> None:
    ship = payload["shipping_address"]
    ship["city"] = None
    ship["country_code"] = None
    ship["name"] = ship["first_name"] = ship["last_name"] = ""
    payload["line_items"][1]["price"] = "9.999"
    payload["line_items"][0]["quantity"] = 0
    payload["total_price"] = "-1.00"
    with pytest.raises(PayloadError) as exc:
        adapter.to_canonical(headers_for(raw), payload)
    assert {loc for loc, _ in exc.value.field_errors} == {
        "shipping_address.country_code",
        "shipping_address.city",
        "shipping_address.name",
        "line_items[0].quantity",
        "line_items[1].price",
        "total_price",
    }


def test_receiver_name_falls_back_to_first_and_last(raw: bytes, payload: dict[str, Any]) -> None:
    payload["shipping_address"].update(name=None, first_name="Wei", last_name="Zhang")
    assert adapter.to_canonical(headers_for(raw), payload).receiver.name == "Wei Zhang"


def test_phone_falls_back_to_default_address_then_order(
    raw: bytes, payload: dict[str, Any]
) -> None:
    payload["shipping_address"]["phone"] = None
    assert adapter.to_canonical(headers_for(raw), payload).receiver.phone == "+86 139 0000 0000"
    payload["customer"]["default_address"]["phone"] = ""
    payload["phone"] = "+8613700000000"
    assert adapter.to_canonical(headers_for(raw), payload).receiver.phone == "+8613700000000"
    payload["phone"] = None
    with pytest.raises(PayloadError) as exc:
        adapter.to_canonical(headers_for(raw), payload)
    assert exc.value.field_errors == [("shipping_address.phone", "required")]


def test_line_without_sku_or_variant_is_named(raw: bytes, payload: dict[str, Any]) -> None:
    payload["line_items"][1]["variant_id"] = None
    with pytest.raises(PayloadError) as exc:
        adapter.to_canonical(headers_for(raw), payload)
    assert exc.value.field_errors == [("line_items[1].sku", "required")]


def test_shipping_falls_back_to_shipping_lines(raw: bytes, payload: dict[str, Any]) -> None:
    del payload["total_shipping_price_set"]
    payload["shipping_lines"].append(copy.deepcopy(payload["shipping_lines"][0]))
    payload["shipping_lines"][1]["price"] = "5.50"
    assert adapter.to_canonical(headers_for(raw), payload).amounts.shipping_fee == Decimal("15.50")
    payload["shipping_lines"] = []
    assert adapter.to_canonical(headers_for(raw), payload).amounts.shipping_fee == Decimal("0.00")


def test_bad_shipping_line_price_is_named_once(raw: bytes, payload: dict[str, Any]) -> None:
    del payload["total_shipping_price_set"]
    payload["shipping_lines"][0]["price"] = "ten"
    with pytest.raises(PayloadError) as exc:
        adapter.to_canonical(headers_for(raw), payload)
    assert exc.value.field_errors == [("shipping_lines[0].price", AMOUNT)]


def test_goods_total_falls_back_to_subtotal_plus_discounts(
    raw: bytes, payload: dict[str, Any]
) -> None:
    del payload["total_line_items_price"]
    assert adapter.to_canonical(headers_for(raw), payload).amounts.goods_total == Decimal("398.00")
    del payload["subtotal_price"]
    assert adapter.to_canonical(headers_for(raw), payload).amounts.goods_total == Decimal("398.00")


def test_paid_at_falls_back_to_created_at(raw: bytes, payload: dict[str, Any]) -> None:
    payload["processed_at"] = None
    order = adapter.to_canonical(headers_for(raw), payload)
    assert order.paid_at == datetime(2024, 6, 18, 13, 5, 31, tzinfo=UTC)


def test_naive_processed_at_is_named(raw: bytes, payload: dict[str, Any]) -> None:
    payload["processed_at"] = "2024-06-18T21:05:33"
    with pytest.raises(PayloadError) as exc:
        adapter.to_canonical(headers_for(raw), payload)
    assert exc.value.field_errors == [("processed_at", "must carry a UTC offset")]


@pytest.mark.parametrize("bad_id", [None, 8.209829119461545e17, True, "gid://shopify/Order/1"])
def test_order_id_must_be_an_exact_integer(
    raw: bytes, payload: dict[str, Any], bad_id: Any
) -> None:
    payload["id"] = bad_id
    with pytest.raises(PayloadError) as exc:
        adapter.to_canonical(headers_for(raw), payload)
    assert [loc for loc, _ in exc.value.field_errors] == ["id"]


def test_long_note_is_truncated_not_rejected(raw: bytes, payload: dict[str, Any]) -> None:
    payload["note"] = "备" * 2500
    assert len(adapter.to_canonical(headers_for(raw), payload).remarks) == 2000


def test_registry_knows_shopify_and_lvyue() -> None:
    assert {"shopify", "lvyue", "taobao", "jd", "pinduoduo", "douyin"} <= set(ADAPTERS)
    assert isinstance(ADAPTERS.get("shopify"), ShopifyAdapter)
    assert ADAPTERS.get("amazon") is None
    for name, registered in ADAPTERS.items():
        assert registered.name == name


# --- hostile values -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "domain", ["a" * 6000, "lvyue-demo.myshopify.com\u200b", "lvyue demo.myshopify.com", "-x.com"]
)
def test_a_malformed_shop_domain_is_refused_before_any_secret_is_looked_up(
    raw: bytes, domain: str
) -> None:
    """The domain keys the order and its notifications (index keys) and a "*" secret admits
    any: it is refused as the other signature headers are, naming it."""
    looked_up: list[str] = []

    def lookup(platform: str, shop: str) -> str | None:
        looked_up.append(shop)
        return SECRET

    headers = headers_for(raw, **{"X-Shopify-Shop-Domain": domain})
    with pytest.raises(SignatureError, match="header X-Shopify-Shop-Domain malformed"):
        adapter.verify(headers, raw, lookup, now=NOW)
    assert looked_up == []


@pytest.mark.parametrize("webhook_id", ["w" * 129, "b54557e4\u00e9", "b54557e4\x00"])
def test_a_webhook_id_that_is_no_id_is_refused_naming_the_header(
    payload: dict[str, Any], webhook_id: str
) -> None:
    with pytest.raises(PayloadError) as refused:
        adapter.delivery_id({"X-Shopify-Webhook-Id": webhook_id}, payload)
    assert [loc for loc, _ in refused.value.field_errors] == ["X-Shopify-Webhook-Id"]


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"subtotal_price": "9e999999", "total_discounts": "9e999999"}, "subtotal_price"),
        ({"subtotal_price": "١٦٨.٠٠"}, "subtotal_price"),
        ({"subtotal_price": "999999999999.99", "total_discounts": "1"}, "subtotal_price"),
        ({"subtotal_price": "378.00", "total_discounts": "9e999999"}, "total_discounts"),
    ],
)
def test_amounts_are_bounded_before_they_are_added(
    raw: bytes, payload: dict[str, Any], changes: dict[str, Any], named: str
) -> None:
    """subtotal_price + total_discounts rebuilds the goods total: "9e999999" twice overflowed
    Decimal (a 500); each is now read as the contract's money first, or named."""
    del payload["total_line_items_price"]
    payload.update(changes)
    with pytest.raises(PayloadError) as refused:
        adapter.to_canonical(headers_for(raw), payload)
    assert named in [loc for loc, _ in refused.value.field_errors]


def test_invisible_characters_are_dropped_from_the_note(
    raw: bytes, payload: dict[str, Any]
) -> None:
    payload["note"] = "送人用\u200b\u202e，\n不要发票"
    assert adapter.to_canonical(headers_for(raw), payload).remarks == "送人用，\n不要发票"


def test_processed_at_is_bounded_by_the_requests_clock(raw: bytes, payload: dict[str, Any]) -> None:
    payload["processed_at"] = "2024-06-20T13:05:01+00:00"  # a day and a second after NOW
    with pytest.raises(PayloadError) as refused:
        adapter.to_canonical(headers_for(raw), payload, now=NOW)
    assert [loc for loc, _ in refused.value.field_errors] == ["processed_at"]
    payload["processed_at"] = "2024-06-19T13:05:00+00:00"
    assert adapter.to_canonical(headers_for(raw), payload, now=NOW).paid_at == datetime(
        2024, 6, 19, 13, 5, tzinfo=UTC
    )
