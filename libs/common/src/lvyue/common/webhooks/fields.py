"""Reading platform payload fields, shared by order-review's and aftersales' adapters. Every
reader is lenient about type (a value of the wrong type is "absent", for the contract models
or the adapter to report under the platform's path) and strict about size: no amount, however
many digits it has, can make Decimal arithmetic fail."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any


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
    """A numeric id as exact digits (a positive number or a digit string); bools and floats
    are not ids (a float may have rounded it)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)
    # isascii: str.isdigit() also accepts digits like "²" or "١".
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return value.strip()
    return None


def any_id(value: Any) -> str | None:
    """An id as given: a positive integer or any non-blank string (bools and floats are not)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return str(value)
    return text(value)


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
