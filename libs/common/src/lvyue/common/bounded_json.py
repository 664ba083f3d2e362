"""JSON from outside decoded within limits, so that no sender (a webhook's, a platform's API
answering a call) can make a service do unbounded work or hand it what PostgreSQL refuses.

Refused (JsonRefused, saying where and why): bytes that are not UTF-8 (json.loads would
otherwise guess UTF-16 or UTF-32), a byte order mark, malformed JSON, NaN or Infinity (not
JSON), integers longer than `max_int_digits` (Python would raise a bare ValueError at 4,300),
numbers longer than `max_number_chars` or out of float range, nesting deeper than `max_depth`,
a key twice in one object (a signed body must mean one thing), and text holding U+0000 or a
lone surrogate (neither can be stored as PostgreSQL text or jsonb). The size is the caller's
to bound before this runs: it decides what a body may weigh.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_DEPTH = 32
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True)
class JsonLimits:
    max_depth: int = DEFAULT_MAX_DEPTH  # objects and arrays inside each other
    max_int_digits: int = 20  # 2**64 has 20 digits: every id a platform sends fits
    max_number_chars: int = 40


DEFAULT_LIMITS = JsonLimits()


class JsonRefused(ValueError):
    """The document broke a limit: `reason` a sentence, `path` where in the document
    (keys and indexes; empty for the whole), `not_utf8` when the bytes were not UTF-8."""

    def __init__(
        self, reason: str, path: list[str | int] | None = None, *, not_utf8: bool = False
    ) -> None:
        super().__init__(reason if not path else f"{reason} (at {'/'.join(map(str, path))})")
        self.reason = reason
        self.path = path or []
        self.not_utf8 = not_utf8


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


def parse_json(body: bytes, limits: JsonLimits | None = None) -> dict[str, Any] | list[Any]:
    """The bytes' JSON object or array, every limit checked (see the module); JsonRefused."""
    limits = limits or DEFAULT_LIMITS
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonRefused(
            f"body is not UTF-8 (byte {exc.start}); JSON must be UTF-8 (RFC 8259)", not_utf8=True
        ) from exc
    if text.startswith("\ufeff"):
        raise JsonRefused("body starts with a byte order mark, which JSON must not (RFC 8259)")
    decoder = _DECODERS.get(limits) or _DECODERS.setdefault(limits, _decoder(limits))
    try:
        data = decoder.decode(text)
    except _Refused as exc:
        raise JsonRefused(str(exc)) from exc
    except RecursionError as exc:  # deeper than the interpreter allows: far past max_depth
        raise JsonRefused(f"nesting deeper than {limits.max_depth} levels") from exc
    except json.JSONDecodeError as exc:
        raise JsonRefused(f"malformed JSON: {exc}") from exc
    if not isinstance(data, dict | list):
        raise JsonRefused("must be a JSON object or array")
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
                raise JsonRefused(_unstorable(value), path)
            continue
        if not isinstance(value, dict | list):
            continue
        if len(path) >= max_depth:
            raise JsonRefused(f"nesting deeper than {max_depth} levels", path)
        if isinstance(value, dict):
            for key, item in value.items():
                if _UNSTORABLE.search(key):
                    raise JsonRefused(f"a key {_unstorable(key).removeprefix('text ')}", path)
                stack.append((item, [*path, key]))
        else:
            stack.extend((item, [*path, i]) for i, item in enumerate(value))


def _unstorable(value: str) -> str:
    found = _UNSTORABLE.search(value)
    char = found.group() if found else ""
    if char == "\x00":
        return "text contains U+0000, which cannot be stored"
    return f"text contains a lone surrogate (U+{ord(char):04X}), which is not Unicode text"
