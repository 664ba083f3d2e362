"""X-Operator names in any script travel as percent-encoded UTF-8; what cannot be a name for an
audit trail is refused with the reason."""

from __future__ import annotations

import re

import pytest

from lvyue.common.operator_header import (
    OPERATOR_HEADER_MAX,
    OperatorNameError,
    decode_operator,
    encode_operator,
)


def _as_starlette_reads(raw_utf8: str) -> str:
    """A header sent as raw UTF-8 bytes, as the server reads it (Latin-1)."""
    return raw_utf8.encode().decode("latin-1")


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("cs-xiaolin", "cs-xiaolin"),
        ("%E5%B0%8F%E6%9E%97", "小林"),
        ("  wh-01  ", "wh-01"),
        ("%20%E5%BC%A0%E4%B8%89%20", "张三"),
        ("", ""),
        ("   ", ""),
        ("50%", "50%"),  # a % not followed by two hex digits stays
        ("a%zzb", "a%zzb"),
        ("O'Brien & Co.", "O'Brien & Co."),
        ("%F0%9F%98%80" * 64, "😀" * 64),  # the longest name, every character four bytes
    ],
)
def test_names_that_are_taken(header: str, name: str) -> None:
    assert decode_operator(header) == name


@pytest.mark.parametrize(
    ("header", "says"),
    [
        (_as_starlette_reads("小林"), "has bytes outside ASCII"),
        ("caf\xe9", "has bytes outside ASCII"),
        ("%FF%FE", "is not percent-encoded UTF-8"),
        ("%E5%B0", "is not percent-encoded UTF-8"),  # a character cut in half
        ("%ED%A0%80", "is not percent-encoded UTF-8"),  # a lone surrogate
        ("cs%00xiaolin", "cannot be shown (U+0000)"),
        ("%1B[31mred", "cannot be shown (U+001B)"),
        ("a%0Ab", "cannot be shown (U+000A)"),
        ("a%E2%80%8Bb", "cannot be shown (U+200B)"),  # zero-width space
        ("a%E2%80%AEb", "cannot be shown (U+202E)"),  # right-to-left override
        ("x" * 65, "is longer than 64 characters"),
        ("%E5%B0%8F" * 65, "is longer than 64 characters"),
        ("x" * (OPERATOR_HEADER_MAX + 1), "is longer than 64 characters"),
    ],
)
def test_names_that_are_refused_say_why(header: str, says: str) -> None:
    with pytest.raises(OperatorNameError, match=re.escape(says)):
        decode_operator(header)


@pytest.mark.parametrize(
    "name", ["cs-xiaolin", "小林", "张 三", "O'Brien & Co.", "100% sure", "a+b=c", "😀", "x" * 64]
)
def test_encoding_is_ascii_and_decodes_back(name: str) -> None:
    header = encode_operator(name)
    assert header.isascii()
    assert decode_operator(header) == name


def test_ascii_names_stay_readable() -> None:
    assert encode_operator("cs-xiaolin") == "cs-xiaolin"
    assert encode_operator("O'Brien & Co.") == "O'Brien & Co."
    assert encode_operator("100% sure") == "100%25 sure"
