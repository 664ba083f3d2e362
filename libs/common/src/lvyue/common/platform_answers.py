"""A sales platform's API answer, read within limits before any of it is used: the answer to
an order pull or detail fetch, or to a tracking upload, is outside input like a webhook. (The
console reads the services' answers through it too.)

Its time is bounded as a whole: httpx's timeouts bound each read, so an answer trickling a
byte at a time would hold a pull or an upload for ever; after `max_seconds` it is cut off.
Its size is bounded once decompressed: an answer that declares more than `max_bytes` is
refused unread, one that streams more is cut off as soon as it passes the limit. (One network
read is inflated whole by httpx: a compressed answer can cost about a thousand times that read,
some tens of MiB, once.) Its JSON goes through the kernel's bounded decoder
(lvyue.common.bounded_json): depth, number sizes, encoding, duplicate keys, unstorable text.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from lvyue.common.bounded_json import JsonLimits, JsonRefused, parse_json

MAX_ANSWER_BYTES = 16 * 1024 * 1024  # a page of 100 orders with their lines is under 1 MiB
MAX_ANSWER_SECONDS = 60.0  # from sending to the answer's last byte
# Said again by the answer rebuilt from the bytes read (they are decoded and counted now).
_RESTATED = {b"content-encoding", b"content-length", b"transfer-encoding"}


class AnswerRefused(Exception):
    """The platform's answer broke a limit (too large, too slow, undecodable, JSON beyond the
    limits)."""


async def send_within(
    client: httpx.AsyncClient,
    request: httpx.Request,
    *,
    max_bytes: int | None = None,
    max_seconds: float | None = None,
) -> httpx.Response:
    """`request` sent and its answer read, at most `max_bytes` (MAX_ANSWER_BYTES) once
    decoded and within `max_seconds` (MAX_ANSWER_SECONDS) in all; AnswerRefused beyond them.
    Transport errors (httpx's own timeouts among them) pass through as httpx raises them."""
    max_seconds = max_seconds or MAX_ANSWER_SECONDS
    try:
        async with asyncio.timeout(max_seconds):
            return await _read(client, request, max_bytes or MAX_ANSWER_BYTES)
    except TimeoutError as exc:
        raise AnswerRefused(f"answer not complete within {max_seconds:g} s") from exc


async def _read(
    client: httpx.AsyncClient, request: httpx.Request, max_bytes: int
) -> httpx.Response:
    response = await client.send(request, stream=True)
    body = bytearray()
    try:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise AnswerRefused(
                f"answer of {declared} bytes, more than the {max_bytes} bytes allowed"
            )
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise AnswerRefused(f"answer of more than the {max_bytes} bytes allowed")
    except httpx.DecodingError as exc:
        raise AnswerRefused(f"answer not decodable as its Content-Encoding says: {exc}") from exc
    finally:
        await response.aclose()
    headers = [(k, v) for k, v in response.headers.raw if k.lower() not in _RESTATED]
    return httpx.Response(
        response.status_code, headers=headers, content=bytes(body), request=request
    )


def answer_json(response: httpx.Response, limits: JsonLimits | None = None) -> dict[str, Any]:
    """The answer's JSON object (every platform API answers one) within the kernel's limits;
    AnswerRefused if not."""
    try:
        answer = parse_json(response.content, limits)
    except JsonRefused as exc:
        raise AnswerRefused(f"answer is not JSON within limits: {exc}") from exc
    if not isinstance(answer, dict):
        raise AnswerRefused("answer is a JSON array, not an object")
    return answer
