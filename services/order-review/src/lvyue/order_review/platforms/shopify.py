"""Shopify `orders/create` webhooks (REST order payload) mapped to a CanonicalOrder.

Documented by Shopify (shopify.dev, webhooks "delivery structure" / "verify deliveries"):
    X-Shopify-Hmac-Sha256   base64 HMAC-SHA256 of the raw body, keyed with the app secret
    X-Shopify-Shop-Domain   the shop's myshopify.com domain: our shop_id
    X-Shopify-Topic         "orders/create"
    X-Shopify-Webhook-Id    the delivery id used for de-duplication
Header names are case-insensitive (HTTP/2 lower-cases them).

Order ids exceed 2^53: the body must be parsed with the standard json module (Python ints
are exact) and the id is carried as str(id), never through a float.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from lvyue.common.contracts.order import Address, Amounts, CanonicalOrder, OrderLine, Receiver
from lvyue.common.security import verify_hmac_sha256
from lvyue.common.webhooks import delivery_id as checked_delivery_id
from lvyue.common.webhooks.fields import amount, digits_id, mapping, text

from ._fields import (
    build_receiver,
    canonical_order,
    order_lines,
    order_parts,
    order_time,
    remark,
)
from .base import FieldErrors, PayloadError, SecretLookup, SignatureError, header

HMAC_HEADER = "X-Shopify-Hmac-Sha256"
SHOP_HEADER = "X-Shopify-Shop-Domain"
TOPIC_HEADER = "X-Shopify-Topic"
WEBHOOK_ID_HEADER = "X-Shopify-Webhook-Id"
ORDERS_CREATE = "orders/create"

# The shop's myshopify.com domain, as the contract's shop_id holds it (128 characters): it
# selects the secret, then keys the order and its notifications (index keys: bounded).
SHOP_DOMAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,127}")
AMOUNT = "must be a decimal amount below 10^12 with at most 2 decimal places"

URGENT_TAGS = frozenset({"urgent", "加急", "急单"})
PROMOTION_TAGS = frozenset({"promotion", "大促"})


class ShopifyAdapter:
    """Adapter for Shopify's orders/create webhook."""

    name = "shopify"

    def verify(
        self,
        headers: Mapping[str, str],
        body: bytes,
        secrets: SecretLookup,
        *,
        now: datetime,  # unused: Shopify signs no timestamp
    ) -> str:
        signature = header(headers, HMAC_HEADER)
        if signature is None:
            raise SignatureError(f"header {HMAC_HEADER} missing")
        shop = header(headers, SHOP_HEADER)
        if shop is None:
            raise SignatureError(f"header {SHOP_HEADER} missing")
        if SHOP_DOMAIN.fullmatch(shop) is None:
            raise SignatureError(
                f"header {SHOP_HEADER} malformed: expected the shop's domain "
                "(at most 128 letters, digits, dots and hyphens)"
            )
        secret = secrets(self.name, shop.lower())
        if secret is None:
            raise SignatureError(f"unknown shop {shop.lower()!r}")
        if not verify_hmac_sha256(secret, body, signature, encoding="base64"):
            raise SignatureError("signature mismatch")
        return shop.lower()

    def delivery_id(self, headers: Mapping[str, str], payload: Mapping[str, Any]) -> str | None:
        return checked_delivery_id(headers, WEBHOOK_ID_HEADER)

    def shop_id(self, headers: Mapping[str, str], payload: Mapping[str, Any]) -> str:
        shop = header(headers, SHOP_HEADER)
        if shop is None:
            raise PayloadError([(SHOP_HEADER, "header missing")])
        return shop.lower()  # domains are case-insensitive; one spelling per shop

    def to_canonical(
        self,
        headers: Mapping[str, str],
        payload: Mapping[str, Any],
        *,
        now: datetime | None = None,
    ) -> CanonicalOrder:
        topic = header(headers, TOPIC_HEADER)
        if topic is not None and topic != ORDERS_CREATE:
            raise PayloadError([(TOPIC_HEADER, f"expected {ORDERS_CREATE!r}, got {topic!r}")])
        if not isinstance(payload, Mapping):  # the route parses any JSON, not only objects
            raise PayloadError([("body", "must be a JSON object")])
        shop = self.shop_id(headers, payload)
        errors = FieldErrors()
        order_id = _order_id(payload, errors)
        receiver = _receiver(payload, errors)
        lines = order_lines(payload.get("line_items"), "line_items", "line item", errors, _line)
        amounts = _amounts(payload, lines, errors)
        paid_at = _paid_at(payload, errors, now)
        parts = order_parts(errors, shop, order_id, receiver, lines, amounts, paid_at)
        tags = _tags(payload.get("tags"))
        customer = mapping(payload.get("customer"))
        return canonical_order(
            errors,
            parts,
            now,
            paths={"shop_id": SHOP_HEADER, "buyer_id": "customer.id", "buyer_nick": "email"},
            platform=self.name,
            buyer_id=digits_id(customer.get("id")),
            buyer_nick=text(payload.get("email")) or text(payload.get("contact_email")),
            # orders/create also fires for pending payments (bank deposit, cash on delivery)
            paid=str(payload.get("financial_status") or "paid") in PAID_STATUSES,
            urgent=not tags.isdisjoint(URGENT_TAGS),
            promotion=not tags.isdisjoint(PROMOTION_TAGS),
            # A long note must not bounce a paid order: keep the first 2000 chars (remark).
            remarks=remark(payload.get("note")),
        )


def _order_id(payload: Mapping[str, Any], errors: FieldErrors) -> str | None:
    raw = payload.get("id")
    if isinstance(raw, float):
        errors.add("id", "a float may have rounded the id; parse the body with json.loads")
        return None
    order_id = digits_id(raw)
    if order_id is None:
        errors.add("id", "required: the order id as an integer")
    return order_id


def _receiver(payload: Mapping[str, Any], errors: FieldErrors) -> Receiver | None:
    ship = payload.get("shipping_address")
    if not isinstance(ship, Mapping):
        errors.add("shipping_address", "required: the order has no shipping address")
        return None
    address = errors.build(
        Address,
        {
            "country": ship.get("country_code"),  # passed even if null: no silent "CN"
            "province": ship.get("province"),
            "city": ship.get("city"),
            "district": "",  # Shopify has no district field; it stays inside address1
            "street": ship.get("address1"),
            "detail": ship.get("address2"),
            "postal_code": ship.get("zip"),
        },
        {
            "country": "shipping_address.country_code",
            "province": "shipping_address.province",
            "city": "shipping_address.city",
            "street": "shipping_address.address1",
            "detail": "shipping_address.address2",
            "postal_code": "shipping_address.zip",
        },
    )
    name = text(ship.get("name")) or " ".join(
        part for part in (text(ship.get("first_name")), text(ship.get("last_name"))) if part
    )
    customer = mapping(payload.get("customer"))
    phone = (
        text(ship.get("phone"))
        or text(mapping(customer.get("default_address")).get("phone"))
        or text(payload.get("phone"))
    )
    return build_receiver(
        errors,
        name=(name or None, "shipping_address.name"),
        phone=(phone, "shipping_address.phone"),
        address=address,
    )


def _line(item: Mapping[str, Any], where: str, errors: FieldErrors) -> OrderLine | None:
    variant = digits_id(item.get("variant_id"))
    return errors.build(
        OrderLine,
        {
            # Products without a SKU are still shippable: fall back to the variant.
            "sku": text(item.get("sku")) or (f"variant:{variant}" if variant else None),
            "name": text(item.get("title")) or text(item.get("name")),
            "quantity": item.get("quantity"),
            "unit_price": item.get("price"),
        },
        {
            "sku": f"{where}.sku",
            "name": f"{where}.title",
            "quantity": f"{where}.quantity",
            "unit_price": f"{where}.price",
        },
    )


def _goods_total(
    payload: Mapping[str, Any], lines: tuple[OrderLine, ...] | None, errors: FieldErrors
) -> tuple[Any, str | None]:
    """Goods before discounts, and the Shopify field it came from (None: reported).

    Shopify's subtotal_price is *after* discounts, so total_line_items_price is preferred;
    subtotal_price + total_discounts rebuilds it; the lines' sum is the last resort. Amounts
    are bounded (fields.amount) before they are added: "9e999999" twice overflowed Decimal.
    """
    if payload.get("total_line_items_price") is not None:
        return payload["total_line_items_price"], "total_line_items_price"
    if payload.get("subtotal_price") is not None:
        subtotal = amount(payload["subtotal_price"])
        if subtotal is None:
            errors.add("subtotal_price", AMOUNT)
            return None, None
        discounts = amount(payload.get("total_discounts") or 0)
        if discounts is None:
            return None, None  # reported as the discount (total_discounts)
        return subtotal + discounts, "subtotal_price"
    if lines is not None:
        return sum((ln.unit_price * ln.quantity for ln in lines), Decimal(0)), "line_items"
    return None, "total_line_items_price"


def _shipping_fee(payload: Mapping[str, Any], errors: FieldErrors) -> tuple[Any, str]:
    """Shipping charged, and the Shopify field it came from."""
    shop_money = mapping(mapping(payload.get("total_shipping_price_set")).get("shop_money"))
    if shop_money.get("amount") is not None:
        return shop_money["amount"], "total_shipping_price_set.shop_money.amount"
    shipping_lines = payload.get("shipping_lines")
    if not isinstance(shipping_lines, Sequence) or isinstance(shipping_lines, str):
        return Decimal(0), "shipping_lines"
    total = Decimal(0)
    for i, line in enumerate(shipping_lines):
        price = amount(mapping(line).get("price"))
        if price is None:
            errors.add(f"shipping_lines[{i}].price", AMOUNT)
            return None, "shipping_lines"
        total += price
    return total, "shipping_lines"


def _amounts(
    payload: Mapping[str, Any], lines: tuple[OrderLine, ...] | None, errors: FieldErrors
) -> Amounts | None:
    goods, goods_path = _goods_total(payload, lines, errors)
    shipping, shipping_path = _shipping_fee(payload, errors)
    discount = payload.get("total_discounts")
    return errors.build(
        Amounts,
        {
            "currency": payload.get("currency"),
            "goods_total": goods,
            "shipping_fee": shipping,
            "discount": "0" if discount is None else discount,
            "paid_total": payload.get("total_price"),
        },
        {
            "currency": "currency",
            "goods_total": goods_path,
            "shipping_fee": shipping_path if shipping is not None else None,  # reported
            "discount": "total_discounts",
            "paid_total": "total_price",
        },
    )


PAID_STATUSES = frozenset({"paid", "partially_refunded", "refunded"})


def _paid_at(
    payload: Mapping[str, Any], errors: FieldErrors, now: datetime | None
) -> datetime | None:
    field = "processed_at" if payload.get("processed_at") else "created_at"
    raw = payload.get(field)
    if not isinstance(raw, str) or not raw.strip():
        errors.add("processed_at", "required: processed_at or created_at")
        return None
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        errors.add(field, "must be an ISO 8601 timestamp")
        return None
    if moment.tzinfo is None:
        errors.add(field, "must carry a UTC offset")
        return None
    return order_time(moment, field, errors, now)


def _tags(raw: Any) -> frozenset[str]:
    """Shopify tags, lower-cased: a comma-separated string (REST) or a list (GraphQL)."""
    if isinstance(raw, str):
        parts: Sequence[Any] = raw.split(",")
    elif isinstance(raw, Sequence):
        parts = raw
    else:
        return frozenset()
    return frozenset(p.strip().casefold() for p in parts if isinstance(p, str) and p.strip())
