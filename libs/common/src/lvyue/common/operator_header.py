"""X-Operator: the name of who acts, for the audit trail, in any script.

An HTTP header value is bytes that servers read as Latin-1, so a name sent as raw UTF-8 (小林)
would be stored as mojibake. A name travels as percent-encoded UTF-8, as JavaScript's
`encodeURIComponent` or `encode_operator` gives it (小林: `%E5%B0%8F%E6%9E%97`); an ASCII name
may travel as it is (a `%` followed by two hex digits is decoded).
"""

from __future__ import annotations

import string
from typing import Annotated
from urllib.parse import quote, unquote

from fastapi import Depends, Header
from fastapi.exceptions import RequestValidationError

OPERATOR_MAX_CHARS = 64
# The longest header a valid name can take: every character 4 UTF-8 bytes, each byte as %XX.
OPERATOR_HEADER_MAX = OPERATOR_MAX_CHARS * 4 * 3
_READABLE = "".join(c for c in string.punctuation + " " if c != "%")  # left as they are


class OperatorNameError(ValueError):
    """What is wrong with an operator's name, worded to follow "X-Operator"."""


def check_operator_name(name: str) -> str:
    """The name without surrounding blanks, if an audit trail can show it."""
    name = name.strip()
    if len(name) > OPERATOR_MAX_CHARS:
        raise OperatorNameError(f"is longer than {OPERATOR_MAX_CHARS} characters")
    for char in name:
        if not char.isprintable():
            raise OperatorNameError(f"has a character that cannot be shown (U+{ord(char):04X})")
    return name


def decode_operator(raw: str) -> str:
    """The name an X-Operator header carries ("" for a blank one)."""
    if len(raw) > OPERATOR_HEADER_MAX:
        raise OperatorNameError(f"is longer than {OPERATOR_MAX_CHARS} characters")
    if not raw.isascii():
        raise OperatorNameError(
            "has bytes outside ASCII: send the name as percent-encoded UTF-8 "
            "(小林: %E5%B0%8F%E6%9E%97)"
        )
    try:
        name = unquote(raw, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise OperatorNameError("is not percent-encoded UTF-8") from None
    return check_operator_name(name)


def encode_operator(name: str) -> str:
    """The X-Operator header for `name`: ASCII kept readable, everything else %-encoded."""
    return quote(name, safe=_READABLE)


async def operator_name(
    x_operator: Annotated[
        str | None,
        Header(
            alias="X-Operator",
            max_length=OPERATOR_HEADER_MAX,
            description="Who acts, for the audit trail: percent-encoded UTF-8 "
            f"(at most {OPERATOR_MAX_CHARS} characters once decoded).",
            examples=["cs-xiaolin", "%E5%B0%8F%E6%9E%97"],
        ),
    ] = None,
) -> str | None:
    """The operator named by the request, or None when it names nobody."""
    if x_operator is None:
        return None
    try:
        return decode_operator(x_operator) or None
    except OperatorNameError as exc:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("header", "X-Operator"),
                    "msg": f"X-Operator {exc}",
                    "input": x_operator,
                }
            ]
        ) from None


OperatorName = Annotated[str | None, Depends(operator_name)]
