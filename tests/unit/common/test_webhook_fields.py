"""The kernel's readers of what a webhook carries besides its signature: ids and amounts of
platform payloads (lvyue.common.webhooks.fields), the delivery id header and the body's
Content-Encoding; each bounded before anything is built from it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from starlette.requests import Request
from starlette.types import Message

from lvyue.common.webhooks import WebhookRejected, delivery_id, read_json_request
from lvyue.common.webhooks.errors import PayloadError
from lvyue.common.webhooks.fields import amount, any_id, digits_id


@pytest.mark.parametrize(
    ("value", "found"),
    [
        (3914567281234567890, "3914567281234567890"),
        (" 0042 ", "0042"),
        ("9" * 64, "9" * 64),
        ("9" * 65, None),  # an index key of 20,000 digits was a 500
        ("7" * 20000, None),
        ("١٢", None),
        (True, None),
        (1.0, None),
        (0, None),
    ],
)
def test_digits_id(value: Any, found: str | None) -> None:
    assert digits_id(value) == found


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ("RF20261122001", "RF20261122001"),
        (8123456789, "8123456789"),
        ("a" * 64, "a" * 64),
        ("a" * 65, None),
        ("r" * 6000, None),
        ("  ", None),
        (False, None),
    ],
)
def test_any_id(value: Any, found: str | None) -> None:
    assert any_id(value) == found


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ("199.00", Decimal("199.00")),
        (" 39.9 ", Decimal("39.90")),
        (168, Decimal("168.00")),
        (29.9, Decimal("29.90")),  # the float as written, not 29.899999...
        ("0", Decimal("0.00")),
        (-0.0, Decimal("0.00")),
        ("999999999999.99", Decimal("999999999999.99")),
        ("9e999999", None),  # two of them added overflowed Decimal: a 500
        ("1000000000000", None),
        (10**12, None),
        (1e300, None),
        ("١٦٨.٠٠", None),
        ("1_000", None),
        ("-0", None),
        ("-1.00", None),
        ("1.005", None),
        (0.005, None),
        ("NaN", None),
        (float("inf"), None),
        (True, None),
        (None, None),
        ([1], None),
    ],
)
def test_amount(value: Any, found: Decimal | None) -> None:
    read = amount(value)
    assert read == found
    if found is not None:
        assert str(read) == str(found)


@pytest.mark.parametrize(
    ("headers", "found"),
    [
        ({}, None),
        ({"x-lvyue-delivery": "  "}, None),
        ({"X-Lvyue-Delivery": " 5b0e-uuid "}, "5b0e-uuid"),
        ({"x-lvyue-delivery": "~" * 128}, "~" * 128),
    ],
)
def test_a_delivery_id_is_printable_ascii(headers: dict[str, str], found: str | None) -> None:
    assert delivery_id(headers, "X-Lvyue-Delivery") == found


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("d" * 129, "got 129 characters"),
        ("d" * 6000, "got 6000 characters"),
        ("å°\x8f", "U+00E5 is not printable ASCII"),  # raw UTF-8 bytes, read as Latin-1
        ("d\x7f", "U+007F"),
        ("d\td", "U+0009"),
    ],
)
def test_any_other_delivery_id_is_refused_naming_the_header(value: str, says: str) -> None:
    with pytest.raises(PayloadError) as refused:
        delivery_id({"x-shopify-webhook-id": value}, "X-Shopify-Webhook-Id")
    [(where, message)] = refused.value.field_errors
    assert where == "X-Shopify-Webhook-Id"
    assert message.startswith("header X-Shopify-Webhook-Id: 1 to 128 printable ASCII")
    assert says in message


def _request(*headers: tuple[str, str], body: bytes = b"{}") -> Request:
    sent = [(b"content-type", b"application/json")]
    sent += [(name.encode(), value.encode()) for name, value in headers]

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {"type": "http", "method": "POST", "path": "/webhooks", "headers": sent}
    return Request(scope, receive)


@pytest.mark.parametrize(
    ("encodings", "named"),
    [
        (("gzip",), "gzip"),
        (("identity, br",), "br"),
        (("identity", "deflate"), "deflate"),
        (("x-" + "z" * 5000,), "x-zzz"),
    ],
)
async def test_a_compressed_body_is_refused_naming_its_encoding(
    encodings: tuple[str, ...], named: str
) -> None:
    request = _request(*(("content-encoding", coding) for coding in encodings))
    with pytest.raises(WebhookRejected) as refused:
        await read_json_request(request)
    assert refused.value.status == 415
    assert isinstance(refused.value.detail, str)
    assert f"Content-Encoding '{named}" in refused.value.detail
    assert len(refused.value.detail) < 200  # a hostile name is not echoed whole


@pytest.mark.parametrize("encoding", [None, "identity", " Identity ", ""])
async def test_an_identity_body_is_read(encoding: str | None) -> None:
    headers = () if encoding is None else (("content-encoding", encoding),)
    assert await read_json_request(_request(*headers, body=b'{"a": 1}')) == (
        b'{"a": 1}',
        {"a": 1},
    )
