"""JSON bodies decoded within limits, so that no sender, signed or not, can make a service do
unbounded work or store what PostgreSQL refuses.

Refused (WebhookRejected): a body that is not UTF-8 (415: json.loads would otherwise guess
UTF-16 or UTF-32), malformed JSON, NaN or Infinity (not JSON), integers longer than
`max_int_digits` (Python would raise a bare ValueError at 4,300), numbers longer than
`max_number_chars` or out of float range, nesting deeper than `max_depth`, a key twice in one
object (a signed body must mean one thing), and text holding U+0000 or a lone surrogate
(neither can be stored as PostgreSQL text or jsonb) — each 422 with where and why.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from lvyue.common.webhooks.errors import WebhookRejected, unprocessable

DEFAULT_MAX_DEPTH = 32
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True)
class JsonLimits:
    max_depth: int = DEFAULT_MAX_DEPTH  # objects and arrays inside each other
    max_int_digits: int = 20  # 2**64 has 20 digits: every id a platform sends fits
    max_number_chars: int = 40


DEFAULT_LIMITS = JsonLimits()


class _Refused(ValueError):
    """Raised from the decoder's hooks: json.loads passes it through unchanged."""


def _decoder(limits: JsonLimits) -> json.JSONDecoder:
    def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    raise _Refused(f"key {key!r} appears twice in one object")
                seen.add(key)
        return obj

    def bounded_int(digits: str) -> int:
        if len(digits.lstrip("-")) > limits.max_int_digits:
            raise _Refused(f"an integer has more than {limits.max_int_digits} digits")
        return int(digits)

    def bounded_float(literal: str) -> float:
        if len(literal) > limits.max_number_chars:
            raise _Refused(f"a number is longer than {limits.max_number_chars} characters")
        value = float(literal)
        if not math.isfinite(value):
            raise _Refused(f"the number {literal} is out of range")
        return value

    def no_constants(name: str) -> Any:
        raise _Refused(f"{name} is not JSON")

    return json.JSONDecoder(
        object_pairs_hook=unique_keys,
        parse_int=bounded_int,
        parse_float=bounded_float,
        parse_constant=no_constants,
    )


_DECODERS: dict[JsonLimits, json.JSONDecoder] = {}


def decode_json(body: bytes, limits: JsonLimits | None = None) -> dict[str, Any]:
    """The body's JSON object, every limit checked (see the module); raises WebhookRejected."""
    data = decode_json_document(body, limits)
    if not isinstance(data, dict):
        raise unprocessable("must be a JSON object")
    return data


def decode_json_document(
    body: bytes, limits: JsonLimits | None = None
) -> dict[str, Any] | list[Any]:
    """The body's JSON object or array (抖店 pushes an array), every limit checked."""
    limits = limits or DEFAULT_LIMITS
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WebhookRejected(
            415, f"body is not UTF-8 (byte {exc.start}); JSON must be UTF-8 (RFC 8259)",
            "unsupported_media_type",
        ) from exc  # fmt: skip
    if text.startswith("\ufeff"):
        raise unprocessable("body starts with a byte order mark, which JSON must not (RFC 8259)")
    decoder = _DECODERS.get(limits) or _DECODERS.setdefault(limits, _decoder(limits))
    try:
        data = decoder.decode(text)
    except _Refused as exc:
        raise unprocessable(str(exc)) from exc
    except RecursionError as exc:  # deeper than the interpreter allows: far past max_depth
        raise unprocessable(f"nesting deeper than {limits.max_depth} levels") from exc
    except json.JSONDecodeError as exc:
        raise unprocessable(f"malformed JSON: {exc}") from exc
    if not isinstance(data, dict | list):
        raise unprocessable("must be a JSON object or array")
    # U+0000 and surrogates can only come from \u escapes (raw ones are not valid JSON in
    # UTF-8), and no body with fewer brackets than the depth limit can nest deeper: a typical
    # order has neither, and skips the walk.
    if "\\u" in text or text.count("[") + text.count("{") > limits.max_depth:
        _check_tree(data, limits.max_depth)
    return data


def _check_tree(root: dict[str, Any] | list[Any], max_depth: int) -> None:
    """Depth and storable text everywhere, without recursion (the tree is the sender's)."""
    stack: list[tuple[Any, list[str | int]]] = [(root, [])]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            if _UNSTORABLE.search(value):
                raise unprocessable(_unstorable(value), path)
            continue
        if not isinstance(value, dict | list):
            continue
        if len(path) >= max_depth:
            raise unprocessable(f"nesting deeper than {max_depth} levels", path)
        if isinstance(value, dict):
            for key, item in value.items():
                if _UNSTORABLE.search(key):
                    raise unprocessable(f"a key {_unstorable(key).removeprefix('text ')}", path)
                stack.append((item, [*path, key]))
        else:
            stack.extend((item, [*path, i]) for i, item in enumerate(value))


def _unstorable(value: str) -> str:
    found = _UNSTORABLE.search(value)
    char = found.group() if found else ""
    if char == "\x00":
        return "text contains U+0000, which cannot be stored"
    return f"text contains a lone surrogate (U+{ord(char):04X}), which is not Unicode text"


def peek_text(body: bytes, field: str, limits: JsonLimits | None = None) -> str | None:
    """A top-level text field of a body not yet trusted (to find the secret that signs it);
    None when the body is not a JSON object within limits or the field is not text."""
    return peek_texts(body, (field,), limits)[0]


def peek_texts(
    body: bytes, fields: tuple[str, ...], limits: JsonLimits | None = None
) -> tuple[str | None, ...]:
    """peek_text for several fields, decoding the body once."""
    try:
        data = decode_json(body, limits)
    except WebhookRejected:
        return tuple(None for _ in fields)
    values = (data.get(field) for field in fields)
    return tuple(v.strip() if isinstance(v, str) and v.strip() else None for v in values)
