"""A platform's answer is outside input: read from a real socket (a loopback server writing
raw HTTP, so that it can lie about its length, stream without end or compress a bomb), it is
refused past its size limit, and its JSON past the kernel's limits, before anything uses it."""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from lvyue.common.platform_answers import AnswerRefused, answer_json, send_within

LIMIT = 64 * 1024


@dataclass
class RawServer:
    """Answers every request with `answer` (status line, headers, body, all raw bytes),
    after `body_chunks` if given: chunked transfer, one chunk each; `drip` bytes after it
    one at a time, every `drip_s`."""

    port: int = 0
    answer: bytes = b""
    body_chunks: int = 0
    chunk: bytes = b""
    drip: bytes = b""
    drip_s: float = 0.05

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(self.answer)
            for _ in range(self.body_chunks):  # bounded: the test says how many
                writer.write(b"%x\r\n%s\r\n" % (len(self.chunk), self.chunk))
                await writer.drain()
            if self.body_chunks:
                writer.write(b"0\r\n\r\n")
            await writer.drain()
            for byte in self.drip:  # bounded: as many as the test gave
                await asyncio.sleep(self.drip_s)
                writer.write(bytes([byte]))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client hung up: what a refusal does
        finally:
            writer.close()


@pytest.fixture
async def raw() -> AsyncIterator[RawServer]:
    server = RawServer()
    listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    server.port = listening.sockets[0].getsockname()[1]
    async with listening:
        yield server


def _answer(body: bytes, *headers: str, status: str = "200 OK") -> bytes:
    """Raw status line and headers, then `body`; a Content-Length unless headers say how the
    body is framed."""
    head = [f"HTTP/1.1 {status}", "Content-Type: application/json", *headers]
    if not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in headers):
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _send(raw: RawServer) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        request = client.build_request("GET", f"http://127.0.0.1:{raw.port}/orders")
        return await send_within(client, request, max_bytes=LIMIT)


async def test_an_answer_within_the_limits_is_read_as_sent(raw: RawServer) -> None:
    body = json.dumps({"orders": [{"id": 1, "note": "小林"}]}, ensure_ascii=False).encode()
    link = 'Link: <https://shop.example/orders.json?page_info=x>; rel="next"'
    raw.answer = _answer(body, link, status="429 Too Many Requests")
    response = await _send(raw)
    assert response.status_code == 429
    assert response.headers["link"] == link.removeprefix("Link: ")
    assert answer_json(response) == {"orders": [{"id": 1, "note": "小林"}]}


async def test_a_compressed_answer_is_read_decompressed(raw: RawServer) -> None:
    body = json.dumps({"orders": list(range(2000))}).encode()
    raw.answer = _answer(gzip.compress(body), "Content-Encoding: gzip")
    response = await _send(raw)
    assert "content-encoding" not in response.headers  # the bytes now held are plain
    assert answer_json(response) == {"orders": list(range(2000))}


@dataclass(frozen=True)
class Oversized:
    name: str
    answer: bytes
    body_chunks: int
    refusal: str


_ZEROS = gzip.compress(b"0" * (64 * LIMIT))  # 4 MiB inflated, 4 KiB on the wire
OVERSIZED = [
    Oversized(
        "declares a length beyond the limit",
        _answer(b"{}", f"Content-Length: {LIMIT + 1}"),
        0,
        f"answer of {LIMIT + 1} bytes",
    ),
    Oversized(
        "streams chunks past the limit",
        _answer(b"", "Transfer-Encoding: chunked"),
        400,
        "more than the",
    ),
    Oversized(
        "inflates past the limit",
        _answer(_ZEROS, "Content-Encoding: gzip"),
        0,
        "more than the",
    ),
    Oversized(
        "is not the gzip it says",
        _answer(b"not gzip at all", "Content-Encoding: gzip"),
        0,
        "not decodable",
    ),
]


@pytest.mark.parametrize("case", OVERSIZED, ids=lambda c: c.name)
async def test_an_answer_beyond_its_size_is_refused_as_it_arrives(
    raw: RawServer, case: Oversized
) -> None:
    raw.answer = case.answer
    raw.body_chunks, raw.chunk = case.body_chunks, b"x" * 1024  # 400 KiB offered in all
    started = time.monotonic()
    with pytest.raises(AnswerRefused, match=case.refusal):
        await _send(raw)
    assert time.monotonic() - started < 5


async def test_an_answer_trickling_in_is_cut_off_at_its_deadline(raw: RawServer) -> None:
    body = b'{"orders": []}' + b" " * 86  # 100 bytes, one every 50 ms: 5 s in all
    raw.answer, raw.drip = _answer(b"", f"Content-Length: {len(body)}"), body
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=1.0) as client:  # no single read waits a second
        request = client.build_request("GET", f"http://127.0.0.1:{raw.port}/orders")
        with pytest.raises(AnswerRefused, match=r"not complete within 0\.5 s"):
            await send_within(client, request, max_seconds=0.5)
    assert time.monotonic() - started < 2


@dataclass(frozen=True)
class Hostile:
    name: str
    body: bytes
    refusal: str


HOSTILE_JSON = [
    Hostile("nesting", b"[" * 40 + b"]" * 40, "nesting deeper than 32"),
    Hostile("a huge integer", b'{"tid": ' + b"9" * 5000 + b"}", "more than 20 digits"),
    Hostile("NaN", b'{"price": NaN}', "NaN is not JSON"),
    Hostile("a key twice", b'{"tid": 1, "tid": 2}', "appears twice"),
    Hostile("not UTF-8", b'{"name": "\xc4\xe3"}', "not UTF-8"),
    Hostile("U+0000", b'{"name": "a\\u0000b"}', r"U\+0000, which cannot be stored \(at name"),
    Hostile("malformed", b'{"orders": [', "malformed JSON"),
    Hostile("a bare number", b"12", "must be a JSON object or array"),
]


@pytest.mark.parametrize("case", HOSTILE_JSON, ids=lambda c: c.name)
async def test_an_answer_s_json_beyond_the_kernel_s_limits_is_refused(
    raw: RawServer, case: Hostile
) -> None:
    raw.answer = _answer(case.body)
    response = await _send(raw)
    with pytest.raises(AnswerRefused, match=case.refusal):
        answer_json(response)
