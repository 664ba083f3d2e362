"""The canonical lvyue order: what every platform adapter produces and every service consumes.

It travels inside events, so it is frozen, ignores unknown fields (newer producers may add
some) and keeps money as Decimal, serialized to JSON as strings so no float ever rounds it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
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
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
)

from lvyue.common.contracts.text import (
    FREE_TEXT_KEEPS,
    invisible_problem,
)

_CENT = Decimal("0.01")

MONEY_TEXT = re.compile(r"\d{1,12}(?:\.\d{1,2})?", re.ASCII)
"""A money string: ASCII digits (re.ASCII: no "١٦٨"), no sign, no exponent, no "_"."""

EARLIEST_ORDER_TIME = datetime(2000, 1, 1, tzinfo=UTC)
"""No order is paid before this: an earlier time is a placeholder (JOS's year 1) or a bad clock."""
LATEST_AHEAD = timedelta(days=1)
"""How far past the taker's clock an order time may be: clocks drift by seconds, not a day."""
_TAKEN_AT = "lvyue.order_taken_at"  # the validation context's key: the clock of an intake
_ACCEPTED = "lvyue.accepted"  # the validation context's key: read back, not arriving

_PHONE_MASK = "\uff0a"  # ＊: the full-width mask some platforms send; review reads it as one


def _to_cents(value: Decimal) -> Decimal:
    # One representation per amount: "199" and "199.0" both become "199.00"; abs: "-0" is 0.
    return abs(value.quantize(_CENT))


def accepted() -> dict[str, Any]:
    """The validation context of what lvyue took in already (an event's payload, a stored
    row): the character and shape rules below held when it came in, and what came in before
    they did must still read (a consumer refusing it would park the event). Times are never
    bounded there either (taking_in)."""
    return {_ACCEPTED: True}


def _arriving(info: ValidationInfo) -> bool:
    """False when reading back what was accepted (the accepted() context)."""
    context = info.context
    return not (isinstance(context, Mapping) and context.get(_ACCEPTED))


def _ascii_money(
    value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
) -> Decimal:
    # The Decimal checks first (their errors say what is wrong: places, sign, NaN), then the
    # string's own shape: Decimal() also reads other scripts' digits, "1_000", "1e3" and "-0".
    amount: Decimal = handler(value)
    if not _arriving(info):
        return amount
    if isinstance(value, str) and MONEY_TEXT.fullmatch(value.strip()) is None:
        raise ValueError(
            'must be a decimal string such as "199.00": ASCII digits, at most 12 before the '
            "point and 2 after it, no sign"
        )
    return amount


def _whole_count(value: Any, info: ValidationInfo) -> Any:
    # pydantic's lax int reads true as 1 and "5_0" as 50: a count is a JSON integer or digits.
    if not _arriving(info):
        return value
    if isinstance(value, bool):
        raise ValueError("must be an integer, not a boolean")
    if isinstance(value, str) and not (value.strip().isascii() and value.strip().isdigit()):
        raise ValueError("must be an integer (ASCII digits)")
    return value


def _single_line(value: str, info: ValidationInfo) -> str:
    problem = invisible_problem(value) if _arriving(info) else None
    if problem is not None:
        raise ValueError(problem)
    return value


def _free_text(value: str, info: ValidationInfo) -> str:
    problem = invisible_problem(value, FREE_TEXT_KEEPS) if _arriving(info) else None
    if problem is not None:
        raise ValueError(problem)
    return value


def _phone_characters(value: str, info: ValidationInfo) -> str:
    # A phone is dialled and matched by its digits: full-width or other scripts' digits and
    # invisible characters would reach the courier as they are (phonenumbers reads past them).
    if (value.isascii() and value.isprintable()) or not _arriving(info):
        return value
    for char in value:
        if not (" " <= char <= "~" or char == _PHONE_MASK):
            raise ValueError(
                f"must be ASCII (digits, spaces, + - ( ) and a mask's *): U+{ord(char):04X} is not"
            )
    return value


def taking_in(now: datetime | None) -> dict[str, Any]:
    """The validation context of an order being taken in at `now` (the request's clock): its
    times are bounded (order_time_problem). Without it, as when an order is read back from an
    event or the database, they are not: they were when it was taken in."""
    return {_TAKEN_AT: now}


def order_time_problem(moment: datetime, now: datetime | None) -> str | None:
    """Why an order's time is not plausible: before 2000-01-01, or more than a day after `now`
    (None: no clock to compare with, only the first bound); None when it is."""
    if moment < EARLIEST_ORDER_TIME:
        return "must not be before 2000-01-01"
    if now is not None and moment > now + LATEST_AHEAD:
        return f"must not be more than one day after now ({now.isoformat(timespec='seconds')})"
    return None


def _plausible_time(value: datetime, info: ValidationInfo) -> datetime:
    context = info.context
    if not isinstance(context, Mapping) or _TAKEN_AT not in context:
        return value
    problem = order_time_problem(value, context[_TAKEN_AT])
    if problem is not None:
        raise ValueError(problem)
    return value


def _none_to_empty(value: Any) -> Any:
    # Platforms send null for blank optional lines; the contract says "" for them.
    return "" if value is None else value


Money = Annotated[
    Decimal,
    Field(ge=0, max_digits=14, decimal_places=2),
    AfterValidator(_to_cents),
    WrapValidator(_ascii_money),
    # Documented as a string so integrators never send a float; numbers are still accepted.
    WithJsonSchema(
        {"type": "string", "pattern": r"^\d{1,12}(\.\d{1,2})?$", "examples": ["199.00"]}
    ),
]
"""A non-negative amount with at most 2 decimal places, serialized as a string ("199.00"); a
string must be ASCII digits as MONEY_TEXT says."""

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

# Explicit aliases (not a factory) so mypy sees real types; strings are stripped first. Text
# is one line (ids, names, addresses, SKUs): no control or format character at all; only the
# free text of remarks keeps line breaks, tabs and joiners (FREE_TEXT_KEEPS).
Phone = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=5, max_length=32),
    AfterValidator(_phone_characters),
]
Text64 = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    AfterValidator(_single_line),
]
Text128 = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=128),
    AfterValidator(_single_line),
]
Text255 = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=255),
    AfterValidator(_single_line),
]
OptionalText16 = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=16),
    AfterValidator(_single_line),
    BeforeValidator(_none_to_empty),
]
OptionalText64 = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=64),
    AfterValidator(_single_line),
    BeforeValidator(_none_to_empty),
]
OptionalText255 = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=255),
    AfterValidator(_single_line),
    BeforeValidator(_none_to_empty),
]
OptionalText2000 = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2000),
    AfterValidator(_free_text),
    BeforeValidator(_none_to_empty),
]
Quantity = Annotated[int, Field(gt=0, le=1_000_000), BeforeValidator(_whole_count)]
"""Units: a JSON integer (or a string of ASCII digits), 1 to 1,000,000; never a boolean."""
OrderTime = Annotated[AwareDatetime, AfterValidator(_plausible_time)]
"""An order's time, with its UTC offset; bounded when the order is taken in (taking_in)."""


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
            "Contact phone exactly as given (5..32 ASCII chars, spaces and + kept; a mask's * "
            "too); whether it is dialable is a review rule, not a contract rule."
        ),
    )
    address: Address = Field(description="Delivery address.")


class OrderLine(_Contract):
    """One SKU of the order."""

    sku: Text128 = Field(description="Seller SKU code; the key for stock and picking.")
    name: Text255 | None = Field(
        default=None, description="Product title as sold, for people reading the order."
    )
    quantity: Quantity = Field(description="Units ordered, at least 1.")
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
    paid_at: OrderTime = Field(
        description=(
            "When the order was paid, ISO 8601 with a UTC offset, from 2000-01-01 to one day "
            "after lvyue's clock; the review deadline (09:00 next day) counts from here."
        )
    )
    paid: bool = Field(
        default=True,
        description="Payment confirmed by the platform; review flags an unpaid order (not_paid).",
    )
    urgent: bool = Field(default=False, description="Urgent order (急单): shipped first.")
    promotion: bool = Field(default=False, description="Promotion order (大促): shipped first.")
    remarks: OptionalText2000 = Field(
        default="",
        description="Buyer and seller remarks, free text of one or more lines, at most 2000 chars.",
    )


def canonical_order_json_schema() -> dict[str, Any]:
    """The JSON schema of CanonicalOrder, for docs and for platform integrators."""
    return CanonicalOrder.model_json_schema()
