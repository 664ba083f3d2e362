"""The canonical lvyue order: what every platform adapter produces and every service consumes.

It travels inside events, so it is frozen, ignores unknown fields (newer producers may add
some) and keeps money as Decimal, serialized to JSON as strings so no float ever rounds it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)

_CENT = Decimal("0.01")


def _to_cents(value: Decimal) -> Decimal:
    # One representation per amount: "199" and "199.0" both become "199.00".
    return value.quantize(_CENT)


def _none_to_empty(value: Any) -> Any:
    # Platforms send null for blank optional lines; the contract says "" for them.
    return "" if value is None else value


Money = Annotated[
    Decimal,
    Field(ge=0, max_digits=14, decimal_places=2),
    AfterValidator(_to_cents),
    # Documented as a string so integrators never send a float; numbers are still accepted.
    WithJsonSchema(
        {"type": "string", "pattern": r"^\d{1,12}(\.\d{1,2})?$", "examples": ["199.00"]}
    ),
]
"""A non-negative amount with at most 2 decimal places, serialized as a string ("199.00")."""

CountryCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z]{2}$"),
    AfterValidator(str.upper),
]
CurrencyCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z]{3}$"),
    AfterValidator(str.upper),
]
PlatformSlug = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z][a-z0-9_-]{1,31}$")
]

# Explicit aliases (not a factory) so mypy sees real types; strings are stripped first.
Phone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=32)]
Text64 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Text128 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Text255 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
OptionalText16 = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=16), BeforeValidator(_none_to_empty)
]
OptionalText64 = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=64), BeforeValidator(_none_to_empty)
]
OptionalText255 = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=255), BeforeValidator(_none_to_empty)
]
OptionalText2000 = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2000),
    BeforeValidator(_none_to_empty),
]


class _Contract(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Address(_Contract):
    """A delivery address, coarse to fine: country, province, city, district, street."""

    country: CountryCode = Field(
        default="CN", description="ISO 3166-1 alpha-2 country code, upper-cased, e.g. CN."
    )
    province: Text64 = Field(
        description="Province, state or municipality (省/直辖市), e.g. 浙江省 or Shanghai."
    )
    city: Text64 = Field(description="City (市).")
    district: OptionalText64 = Field(
        default="", description="District or county (区/县); empty when the platform has none."
    )
    street: Text255 = Field(
        description="Street-level detail line: street, number, building (街道门牌)."
    )
    detail: OptionalText255 = Field(
        default="", description="Optional second line: unit, floor, room."
    )
    postal_code: OptionalText16 = Field(default="", description="Postal code; empty when unknown.")


class Receiver(_Contract):
    """Who receives the parcel."""

    name: Text64 = Field(description="Receiver's name as the buyer entered it.")
    phone: Phone = Field(
        description=(
            "Contact phone exactly as given (5..32 chars, spaces and + kept); "
            "whether it is dialable is a review rule, not a contract rule."
        ),
    )
    address: Address = Field(description="Delivery address.")


class OrderLine(_Contract):
    """One SKU of the order."""

    sku: Text128 = Field(description="Seller SKU code; the key for stock and picking.")
    name: Text255 | None = Field(
        default=None, description="Product title as sold, for people reading the order."
    )
    quantity: Annotated[int, Field(gt=0, le=1_000_000)] = Field(
        description="Units ordered, at least 1."
    )
    unit_price: Money = Field(
        description="Price of one unit in amounts.currency, decimal string with 2 places."
    )


class Amounts(_Contract):
    """Order money as the platform reported it; the totals are not required to add up."""

    currency: CurrencyCode = Field(
        default="CNY", description="ISO 4217 currency code of every amount, e.g. CNY."
    )
    goods_total: Money = Field(description="Sum of the goods before discounts.")
    shipping_fee: Money = Field(default=Decimal("0.00"), description="Shipping charged.")
    discount: Money = Field(default=Decimal("0.00"), description="Total discount granted.")
    paid_total: Money = Field(
        description=(
            "What the buyer paid. Platforms report taxes, coupons and rounding differently, "
            "so this is not checked against goods_total + shipping_fee - discount."
        )
    )


class CanonicalOrder(_Contract):
    """A paid order in lvyue's own shape, whatever platform it came from."""

    platform: PlatformSlug = Field(
        description="Sales platform slug, lowercase, e.g. taobao, jd, shopify, lvyue."
    )
    shop_id: Text128 = Field(
        description="The shop on that platform, e.g. a Shopify myshopify.com domain."
    )
    platform_order_id: Text64 = Field(
        description=(
            "The platform's order id as a string. Platform ids can exceed 2^53, "
            "so JSON numbers are refused: they may already have been rounded by a float."
        )
    )
    buyer_id: Text64 | None = Field(
        default=None, description="The buyer's account id on the platform, if known."
    )
    buyer_nick: Text255 | None = Field(
        default=None, description="The buyer's nickname or contact handle on the platform."
    )
    receiver: Receiver = Field(description="Who receives the parcel and where.")
    lines: Annotated[tuple[OrderLine, ...], Field(min_length=1, max_length=500)] = Field(
        description="Ordered SKUs, 1 to 500 lines."
    )
    amounts: Amounts = Field(description="Money as reported by the platform.")
    paid_at: AwareDatetime = Field(
        description=(
            "When the order was paid, ISO 8601 with a UTC offset; "
            "the review deadline (09:00 next day) counts from here."
        )
    )
    paid: bool = Field(
        default=True,
        description="Payment confirmed by the platform; review flags an unpaid order (not_paid).",
    )
    urgent: bool = Field(default=False, description="Urgent order (急单): shipped first.")
    promotion: bool = Field(default=False, description="Promotion order (大促): shipped first.")
    remarks: OptionalText2000 = Field(
        default="", description="Buyer and seller remarks, free text, at most 2000 chars."
    )


def canonical_order_json_schema() -> dict[str, Any]:
    """The JSON schema of CanonicalOrder, for docs and for platform integrators."""
    return CanonicalOrder.model_json_schema()
