"""What an after-sale adapter does: verify a platform's push and map it to an intake request.

Adapters are pure: parameters (URL query and headers as one mapping), raw body and parsed
payload in; a PlatformAftersale or an error out. The route opens the case. Signatures are the
platforms' own schemes, shared with order-review through lvyue.common.platform_signing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from lvyue.aftersales.domain import CaseType, Reason
from lvyue.common.platform_signing import SecretLookup, SignatureError
from lvyue.common.platform_signing.pushes import SignedPushVerifier
from lvyue.common.webhooks.errors import FieldError, PayloadError
from lvyue.common.webhooks.fields import MAX_AMOUNT, amount, fen_to_yuan, text

__all__ = [
    "AftersaleAdapter",
    "FieldError",
    "PayloadError",
    "PlatformAftersale",
    "SecretLookup",
    "SignatureError",
    "reason_code",
]

MAX_DESCRIPTION = 2000
MAX_YUAN = MAX_AMOUNT  # the contract's amounts have 14 digits, two of them decimals
MAX_COUNT = 1_000_000  # the most units of one line, as the canonical order allows
MAX_FEN_DIGITS = 14  # MAX_YUAN in fen
COUNT = f"a positive integer up to {MAX_COUNT:,}"
FEN = f"fen, an integer > 0 of at most {MAX_FEN_DIGITS} digits"
YUAN = "yuan, > 0, below 10^12, ASCII digits with at most 2 decimal places"
ID = "required: an id of at most 64 characters"

# The platform's reason text -> lvyue's reason code; the first keyword found wins.
REASON_KEYWORDS: tuple[tuple[Reason, tuple[str, ...]], ...] = (
    (Reason.QUALITY, ("质量问题", "质量", "瑕疵", "quality")),
    (Reason.DAMAGED_IN_TRANSIT, ("破损", "运输", "压坏", "碎", "damaged")),
    (Reason.WRONG_ITEM, ("错发", "发错", "wrong item")),
    (Reason.NOT_AS_DESCRIBED, ("与描述不符", "描述不符", "not as described")),
    (Reason.CHANGED_MIND, ("不想要", "七天无理由", "7天无理由", "拍错", "多拍", "changed mind")),
)


@dataclass(frozen=True)
class PlatformAftersale:
    """A platform's after-sale request, in the terms of aftersales' intake command."""

    platform_order_id: str
    platform_aftersale_id: str
    type: CaseType
    reason: Reason
    description: str  # the platform's reason text and the buyer's words, kept as given
    lines: tuple[tuple[str, int], ...]  # (sku, quantity)
    refund_amount: Decimal | None


class AftersaleAdapter(SignedPushVerifier, Protocol):
    """One sales platform's after-sale push: its name and signature check (`verify`: the app
    that signed it), and how it reads the payload."""

    def to_aftersale(self, payload: Any) -> PlatformAftersale:
        """Map the payload; raises PayloadError naming the platform's fields."""
        ...


def reason_code(*texts: Any) -> Reason:
    """lvyue's reason code for the platform's texts (see REASON_KEYWORDS), else other.

    The texts are read in order (the platform's reason first, then the buyer's words): the
    first that names a reason decides it.
    """
    for value in texts:
        if isinstance(value, str):
            lowered = value.lower()
            for reason, keywords in REASON_KEYWORDS:
                if any(keyword in lowered for keyword in keywords):
                    return reason
    return Reason.OTHER


def description(*parts: Any) -> str:
    """The platform's texts, blanks and repeats dropped, joined; the first 2000 chars."""
    kept: list[str] = []
    for part in parts:
        value = text(part)
        if value is not None and value not in kept:
            kept.append(value)
    return "：".join(kept)[:MAX_DESCRIPTION]


def count(value: Any) -> int | None:
    """A positive integer up to MAX_COUNT (a JSON integer or digit string), else None."""
    if isinstance(value, str):
        digits = value.strip()
        # Length first: int() refuses a string of over 4,300 digits with a bare ValueError.
        if not (digits.isascii() and digits.isdigit()) or len(digits) > len(str(MAX_COUNT)):
            return None
        value = int(digits)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_COUNT:
        return value
    return None


def fen(value: Any) -> Decimal | None:
    """A positive amount in integer fen (a JSON integer or digit string) of at most
    MAX_FEN_DIGITS digits, as yuan; else None (40 digits made a 409 quoting 1E+38 yuan)."""
    digits = str(value).strip() if isinstance(value, int | str) else ""
    if len(digits.removeprefix("-")) > MAX_FEN_DIGITS:
        return None
    found = fen_to_yuan(value)
    return found if found is not None and found > 0 else None


def yuan(value: Any) -> Decimal | None:
    """A positive yuan amount below MAX_YUAN with at most 2 decimals, as the canonical order's
    money: an ASCII decimal string ("39.90", not "٣٩.٩٠"), or a JSON number; else None."""
    found = amount(value)
    return found if found is not None and found > 0 else None


def root_object(payload: Any, root: str) -> Mapping[str, Any]:
    """The payload's root object; raises PayloadError naming the root when it is absent."""
    if not isinstance(payload, Mapping) or not isinstance(payload.get(root), Mapping):
        raise PayloadError([(root, "required: an object")])
    found: Mapping[str, Any] = payload[root]
    return found


class Collected:
    """Field errors across a whole payload, so a sender learns of all of them at once."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def need(self, value: Any, where: str, message: str = "required") -> Any:
        if value is None:
            self.errors.append((where, message))
        return value

    def check(self) -> None:
        if self.errors:
            raise PayloadError(self.errors)
