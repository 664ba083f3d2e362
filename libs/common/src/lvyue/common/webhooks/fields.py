"""Reading platform payload fields, shared by order-review's and aftersales' adapters. Every
reader is lenient about type (a value of the wrong type is "absent", for the contract models
or the adapter to report under the platform's path) and strict about size: no amount, however
many digits it has, can make Decimal arithmetic fail."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from lvyue.common.contracts.order import MONEY_TEXT

MAX_ID = 64
"""The longest id read from a payload: order ids have at most 20 digits, and an id is an index
key (PostgreSQL refuses a btree entry over 2,704 bytes with a 500)."""
MAX_AMOUNT = Decimal(10) ** 12  # the contract's amounts: 14 digits, two of them decimals
_CENT = Decimal("0.01")


def mapping(value: Any) -> Mapping[str, Any]:
    """The value if it is an object, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def items(value: Any) -> Sequence[Any]:
    """A JSON list, else an empty one."""
    return value if isinstance(value, Sequence) and not isinstance(value, str) else ()


def text(value: Any) -> str | None:
    """A stripped non-empty string, or None (platforms send null or "" for blanks)."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def digits_id(value: Any) -> str | None:
    """A numeric id as exact digits (a positive number or a digit string) of at most MAX_ID
    digits; bools and floats are not ids (a float may have rounded it)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        found = str(value)
    elif isinstance(value, str):
        found = value.strip()
        # isascii: str.isdigit() also accepts digits like "²" or "١".
        if not (found.isascii() and found.isdigit()):
            return None
    else:
        return None
    return found if len(found) <= MAX_ID else None


def any_id(value: Any) -> str | None:
    """An id as given: a positive integer or a non-blank string, of at most MAX_ID characters
    (bools and floats are not ids)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        found: str | None = str(value)
    else:
        found = text(value)
    return found if found is not None and len(found) <= MAX_ID else None


def amount(value: Any) -> Decimal | None:
    """A non-negative amount below MAX_AMOUNT with at most 2 decimal places, exact: a string as
    the contract's money (MONEY_TEXT: ASCII digits, "199.00"), a JSON integer, or a JSON float
    as the decimal it was written as; else None. Bounded before any arithmetic, so sums of
    amounts cannot overflow."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if MONEY_TEXT.fullmatch(value.strip()) is None:
            return None
        found = Decimal(value.strip())
    elif isinstance(value, int):
        found = Decimal(value)
    elif isinstance(value, float):
        found = Decimal(repr(value))  # repr is what was written: 29.9, not 29.899999...
    else:
        return None
    # Bounded before quantize, which raises past the context's 28 digits.
    if not found.is_finite() or not 0 <= found < MAX_AMOUNT or found != found.quantize(_CENT):
        return None
    return abs(found.quantize(_CENT))  # abs: "-0.0" is 0


def fen_to_yuan(value: Any) -> Decimal | None:
    """Integer fen (a JSON integer or a digit string, signed) as an exact yuan Decimal with two
    places, else None. scaleb, not quantize: quantize raises past 28 digits, and a 30-digit
    amount must reach the contract, which refuses it by name, not crash the request."""
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value).scaleb(-2)
    digits = value.strip() if isinstance(value, str) else ""
    if digits.isascii() and digits.removeprefix("-").isdigit():
        return Decimal(digits).scaleb(-2)
    return None
