"""lvyue.common.platform_signing: the platforms' documented signing rules, written out
independently, and the verifiers' refusals."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from starlette.datastructures import Headers

from lvyue.common.platform_signing import (
    SignatureError,
    china_time_text,
    douyin_api_sign,
    douyin_event_sign,
    douyin_param_json,
    header,
    md5_wrapped,
    parse_china_time,
    sign,
    sorted_params,
    unix_seconds,
    verify_douyin_event,
    verify_jos,
    verify_pdd,
    verify_top,
)

# TOP's documented example: secret "helloworld", parameters sorted by name.
EXAMPLE = {"foo": "1", "bar": "2", "foo_bar": "3", "foobar": "4"}
SECRET = "helloworld"
APP = "app-1"
NOW = datetime(2024, 6, 18, 13, 6, tzinfo=UTC)  # 21:06 in Shanghai


def secrets(platform: str, app: str) -> str | None:
    return SECRET if app == APP else None


def test_sorted_params_concatenates_name_value_by_name_without_sign() -> None:
    assert sorted_params({**EXAMPLE, "sign": "X"}) == "bar2foo1foo_bar3foobar4"


def test_documented_md5_example() -> None:
    expected = hashlib.md5(b"helloworldbar2foo1foo_bar3foobar4helloworld").hexdigest().upper()
    assert sign(EXAMPLE, SECRET) == expected
    assert sign(EXAMPLE, SECRET, method="md5") == expected


def test_body_is_signed_after_the_parameters() -> None:
    expected = hashlib.md5(b"helloworldbar2foo1foo_bar3foobar4{}helloworld").hexdigest().upper()
    assert sign(EXAMPLE, SECRET, b"{}") == expected


@pytest.mark.parametrize(("method", "digest"), [("hmac", "md5"), ("hmac-sha256", "sha256")])
def test_hmac_methods(method: str, digest: str) -> None:
    message = b"bar2foo1foo_bar3foobar4{}"
    expected = hmac.new(SECRET.encode(), message, digest).hexdigest().upper()
    assert sign(EXAMPLE, SECRET, b"{}", method) == expected


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="sha1"):
        sign(EXAMPLE, SECRET, method="sha1")


def test_douyin_event_sign_is_lower_hex_md5_of_app_key_body_secret() -> None:
    body = b'{"a":1}'
    assert (
        douyin_event_sign("7123", "s3cret", body) == hashlib.md5(b'7123{"a":1}s3cret').hexdigest()
    )


def test_douyin_api_sign_wraps_the_sorted_parameters_lower_case() -> None:
    message = "app_keykey-1methodorder.logisticsAddparam_json{}timestamp1v2"
    expected = hashlib.md5(f"s{message}s".encode()).hexdigest()
    assert md5_wrapped("s", message) == expected == md5_wrapped("s", message.encode())


def test_douyin_api_sign_md5_and_hmac_sha256_over_the_documented_string() -> None:
    params = douyin_param_json({"size": 10, "page": 0, "name": "张"})
    assert params == '{"name":"张","page":0,"size":10}'  # sorted, compact, not escaped
    message = f"app_keyk1methodorder.searchListparam_json{params}timestamp1700000000v2"
    wrapped = f"sec{message}sec".encode()
    assert douyin_api_sign("k1", "sec", "order.searchList", params, "1700000000", "md5") == (
        hashlib.md5(wrapped).hexdigest()
    )
    assert (
        douyin_api_sign("k1", "sec", "order.searchList", params, "1700000000", "hmac-sha256")
        == hmac.new(b"sec", wrapped, hashlib.sha256).hexdigest()
    )
    with pytest.raises(ValueError, match="sha1"):
        douyin_api_sign("k1", "sec", "order.searchList", params, "1", "sha1")


def test_times() -> None:
    assert china_time_text(NOW) == "2024-06-18 21:06:00"
    assert unix_seconds(NOW) == str(int(NOW.timestamp()))
    assert parse_china_time("2024-06-18 21:06:00") == NOW
    assert parse_china_time("2024-06-18T21:06:00") is None
    assert parse_china_time(None) is None


# --- verifiers --------------------------------------------------------------------------------


def top_params(**extra: str) -> dict[str, str]:
    params = {"app_key": APP, "timestamp": "2024-06-18 21:05:40", "sign_method": "md5", "v": "2.0"}
    params.update(extra)
    return params


def test_verify_top_accepts_the_signed_request_and_names_the_app() -> None:
    params = top_params()
    given = {**params, "sign": sign(params, SECRET, b"{}")}
    assert verify_top(given, b"{}", secrets, platform="taobao", now=NOW) == APP


def test_verify_top_refuses_a_changed_body_and_a_stale_timestamp() -> None:
    params = top_params()
    given = {**params, "sign": sign(params, SECRET, b"{}")}
    with pytest.raises(SignatureError, match="signature mismatch"):
        verify_top(given, b"{ }", secrets, platform="taobao", now=NOW)
    with pytest.raises(SignatureError, match="outside"):
        verify_top(given, b"{}", secrets, platform="taobao", now=NOW + timedelta(hours=1))


def test_verify_jos_signs_the_body_as_360buy_param_json() -> None:
    params = top_params()
    signed = sign({**params, "360buy_param_json": "{}"}, SECRET)
    assert verify_jos({**params, "sign": signed}, b"{}", secrets, platform="jd", now=NOW) == APP


def test_verify_pdd_needs_unix_seconds() -> None:
    params = {"client_id": APP, "timestamp": unix_seconds(NOW)}
    given = {**params, "sign": sign(params, SECRET, b"{}")}
    assert verify_pdd(given, b"{}", secrets, platform="pinduoduo", now=NOW) == APP
    bad = {**given, "timestamp": "2024-06-18 21:05:40"}
    with pytest.raises(SignatureError, match="unix seconds"):
        verify_pdd(bad, b"{}", secrets, platform="pinduoduo", now=NOW)


def test_verify_douyin_event() -> None:
    headers = {"App-Id": APP, "Event-Sign": douyin_event_sign(APP, SECRET, b"{}").upper()}
    assert verify_douyin_event(headers, b"{}", secrets, platform="douyin") == APP
    with pytest.raises(SignatureError, match="event-sign missing"):
        verify_douyin_event({"app-id": APP}, b"{}", secrets, platform="douyin")
    with pytest.raises(SignatureError, match="unknown app-id"):
        verify_douyin_event({**headers, "app-id": "other"}, b"{}", secrets, platform="douyin")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-sign": " abc "}, "abc"),  # keyed in lower case: found, stripped
        ({"X-Sign": "abc"}, "abc"),  # keyed otherwise: found all the same
        ({"X-SIGN": "abc", "Other": "x"}, "abc"),
        ({"X-Sign": "   "}, None),  # blank: absent
        ({"x-sign": ""}, None),
        ({"Other": "abc"}, None),
        ({}, None),
    ],
)
def test_a_header_is_found_in_any_case_and_a_blank_one_is_absent(
    headers: dict[str, str], expected: str | None
) -> None:
    assert header(headers, "X-Sign") == expected
    assert header(headers, "x-sign") == expected


def test_a_requests_headers_are_read_in_any_case() -> None:
    request = Headers(raw=[(b"x-sign", b"abc"), (b"content-type", b"application/json")])
    assert header(request, "X-Sign") == "abc"
    assert header(request, "X-Missing") is None
