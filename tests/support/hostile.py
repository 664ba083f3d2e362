"""Hostile webhook bodies, one per class of attack, built around a platform's good body: the
table every webhook route is tested against (orders and after-sales, every platform)."""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Hostile:
    name: str
    body: bytes
    status: int
    says: str  # what the error must name
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()  # sent as well (e.g. Content-Encoding)


def _with(good: bytes, member: str) -> bytes:
    """The good body with one more member first: `member` is raw JSON text, `"k": v`."""
    assert good.lstrip().startswith(b"{")
    return b"{" + member.encode() + b", " + good.lstrip()[1:]


def _nested(depth: int) -> str:
    return '"hostile_deep": ' + "[" * depth + "]" * depth


def hostile_bodies(good: bytes) -> list[Hostile]:
    text = good.decode()
    return [
        Hostile("too large", _with(good, f'"hostile_pad": "{"x" * 1024 * 1024}"'), 413, "bytes"),
        Hostile("deep nesting", _with(good, _nested(64)), 422, "nesting"),
        Hostile("very deep nesting", _with(good, _nested(50_000)), 422, "nesting"),
        Hostile("huge integer", _with(good, '"hostile_number": ' + "9" * 5000), 422, "digits"),
        Hostile("NaN", _with(good, '"hostile_number": NaN'), 422, "NaN"),
        Hostile("Infinity", _with(good, '"hostile_number": -Infinity'), 422, "Infinity"),
        Hostile("float overflow", _with(good, '"hostile_number": 1e999'), 422, "range"),
        Hostile("U+0000 in text", _with(good, '"hostile_text": "a\\u0000b"'), 422, "U+0000"),
        Hostile("U+0000 in a key", _with(good, '"hostile\\u0000key": 1'), 422, "U+0000"),
        Hostile("lone surrogate", _with(good, '"hostile_text": "\\ud800"'), 422, "surrogate"),
        Hostile("duplicate key", _with(good, '"hostile_dup": 1, "hostile_dup": 2'), 422, "twice"),
        Hostile("UTF-16", text.encode("utf-16"), 415, "UTF-8"),
        Hostile("UTF-8 with a BOM", b"\xef\xbb\xbf" + good, 422, "byte order mark"),
        Hostile("not an object", b"[" + good + b"]", 422, "object"),
        Hostile("malformed", good[:-2], 422, "malformed JSON"),
        Hostile("charset UTF-16", good, 415, "charset",
                content_type="application/json; charset=utf-16"),
        Hostile("not JSON", good, 415, "application/json", content_type="text/plain"),
        # Nothing is inflated: a compressed body, or one said to be, is refused naming it.
        Hostile("gzip", gzip.compress(good), 415, "Content-Encoding 'gzip'", headers=GZIPPED),
        Hostile("plain, said to be gzip", good, 415, "Content-Encoding 'gzip'", headers=GZIPPED),
        Hostile("identity, then br", good, 415, "Content-Encoding 'br'",
                headers=(("Content-Encoding", "identity, br"),)),
    ]  # fmt: skip


GZIPPED = (("Content-Encoding", "gzip"),)


def signable(body: bytes) -> bytes:
    """What to sign: the body itself, or, when it is not UTF-8 (which the platforms' signing
    helpers need), the body's bytes as Latin-1 text, which the refusal comes before anyway."""
    try:
        body.decode()
    except UnicodeDecodeError:
        return body.decode("latin-1").encode()
    return body


def raw_headers(headers: Mapping[str, str | bytes]) -> dict[bytes, bytes]:
    """Headers as the bytes sent: a hostile value may be bytes that are no text (raw UTF-8,
    which the server reads as Latin-1)."""
    return {
        name.encode(): value if isinstance(value, bytes) else value.encode()
        for name, value in headers.items()
    }
