"""The console's doors, without the services behind it: signing in, CSRF, roles, redirects,
security headers, hostile cookies and parameters, and a service that does not answer (its
upstreams point at a closed port). The pages with the services are tests/e2e/test_console.py."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lvyue.common.settings import Environment
from lvyue.console.api.session import CSRF_COOKIE, SESSION_COOKIE, encode_session
from lvyue.console.main import build_app
from lvyue.console.settings import ConsoleSettings

CLOSED = "http://127.0.0.1:9"  # discard: nothing listens, a connection is refused at once
TOKENS = {"ops": ["t-ops"], "sre": ["t-sre"], "warehouse": ["t-wh"]}


def _settings(**changes: object) -> ConsoleSettings:
    values: dict[str, object] = {
        "env": Environment.DEV,
        "api_tokens": TOKENS,
        "order_review_url": CLOSED,
        "inventory_url": CLOSED,
        "fulfilment_url": CLOSED,
        "aftersales_url": CLOSED,
        "upstream_timeout_s": 1.0,
    }
    return ConsoleSettings.model_validate(values | changes)


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(build_app(_settings()), base_url="http://127.0.0.1") as test_client:
        yield test_client


def _csrf(client: TestClient) -> str:
    page = client.get("/sign-in")
    found = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text)
    assert found is not None
    return found.group(1)


def _sign_in(client: TestClient, token: str, operator: str = "cs-xiaolin", **form: str) -> object:
    data = {"csrf_token": _csrf(client), "token": token, "operator": operator} | form
    return client.post("/sign-in", data=data, follow_redirects=False)


def test_a_visitor_without_a_session_is_sent_to_sign_in_and_back(client: TestClient) -> None:
    answer = client.get("/queue", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=/queue"
    signed = _sign_in(client, "t-ops", next="/queue")
    assert signed.status_code == 303  # type: ignore[attr-defined]
    assert signed.headers["location"] == "/queue"  # type: ignore[attr-defined]


def test_the_session_cookie_is_http_only_and_same_site_strict(client: TestClient) -> None:
    answer = _sign_in(client, "t-ops")
    cookie = answer.headers["set-cookie"]  # type: ignore[attr-defined]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Secure" not in cookie  # dev, over plain HTTP on the loopback


def test_cookies_are_secure_in_production() -> None:
    settings = _settings(env=Environment.PRODUCTION)
    with TestClient(build_app(settings), base_url="https://127.0.0.1") as client:
        assert "Secure" in client.get("/sign-in").headers["set-cookie"]
        cookie = _sign_in(client, "t-ops").headers["set-cookie"]  # type: ignore[attr-defined]
        assert "Secure" in cookie


def test_each_role_lands_on_its_own_page(client: TestClient) -> None:
    for token, home in (("t-ops", "/queue"), ("t-wh", "/pick-list"), ("t-sre", "/board")):
        client.cookies.clear()
        assert _sign_in(client, token).headers["location"] == home  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("token", "operator", "status", "says"),
    [
        ("unknown", "cs-xiaolin", 401, "This token is not known"),
        ("", "cs-xiaolin", 401, "This token is not known"),
        ("t-ops", "", 422, "Give your name"),
        ("t-ops", "x" * 65, 422, "Give your name"),
        ("t-ops", "小" * 65, 422, "Give your name"),
        ("t-ops", "cs\x00xiaolin", 422, "Give your name"),
        ("t-ops", "cs\u200bxiaolin", 422, "Give your name"),  # zero-width space
    ],
)
def test_sign_in_refuses_with_a_reason(
    client: TestClient, token: str, operator: str, status: int, says: str
) -> None:
    client.headers["Accept-Language"] = "en"
    answer = _sign_in(client, token, operator)
    assert answer.status_code == status  # type: ignore[attr-defined]
    assert says in answer.text  # type: ignore[attr-defined]
    assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")  # type: ignore[attr-defined]


def test_a_form_without_its_csrf_token_is_refused(client: TestClient) -> None:
    client.headers["Accept-Language"] = "en"
    _csrf(client)
    forged = client.post(
        "/sign-in", data={"token": "t-ops", "operator": "x", "csrf_token": "0" * 64}
    )
    assert forged.status_code == 403
    assert "This form expired" in forged.text
    _sign_in(client, "t-ops")
    action = client.post(
        "/orders/0b9e4c52-6c1e-4a53-9d35-2f4f2f7f6a10/cancel", data={"reason": "x"}
    )
    assert action.status_code == 403
    other_visitor = TestClient(client.app, base_url="http://127.0.0.1")
    stolen = _csrf(client)  # a token of one visitor is worthless with another's seed
    other_visitor.cookies.set(SESSION_COOKIE, client.cookies[SESSION_COOKIE])
    other_visitor.cookies.set(CSRF_COOKIE, "another-seed")
    replay = other_visitor.post(
        "/orders/0b9e4c52-6c1e-4a53-9d35-2f4f2f7f6a10/cancel",
        data={"reason": "x", "csrf_token": stolen},
    )
    assert replay.status_code == 403


@pytest.mark.parametrize(
    ("field", "header"),
    [("é" * 64, None), ("小" * 32, None), ("0" * 63 + "é", None),
     (None, b"\xe9" * 64), (None, "小".encode() * 21 + b"0")],
    ids=["form Latin-1", "form CJK", "form last character", "header byte 0xE9", "header UTF-8"],
)  # fmt: skip
def test_a_non_ascii_csrf_token_is_a_failed_check_not_a_crash(
    client: TestClient, field: str | None, header: bytes | None
) -> None:
    """compare_digest raises on non-ASCII text: a hostile token must be the plain 403."""
    client.headers["Accept-Language"] = "en"
    _csrf(client)  # the visitor has a seed, so the token itself is what is compared
    data = {"token": "t-ops", "operator": "x"} | ({"csrf_token": field} if field else {})
    headers = {"X-CSRF-Token": header} if header is not None else {}
    answer = client.post("/sign-in", data=data, headers=headers, follow_redirects=False)
    assert answer.status_code == 403
    assert "This form expired" in answer.text
    assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")


@pytest.mark.parametrize("quantity", ["²", "₅", "٣", "３", "1²", "-1", "1.5", "1e3", "1_0"])
def test_a_return_quantity_is_ascii_digits_only(client: TestClient, quantity: str) -> None:
    """str.isdigit() admits superscripts (int() then raises) and other scripts' digits (read
    as a number nobody typed): each is the form's 422 naming the field, and nothing is sent
    on (the aftersales upstream is closed: reaching it would be a 503)."""
    client.headers["Accept-Language"] = "en"
    _sign_in(client, "t-wh")
    answer = client.post(
        "/cases/0b9e4c52-6c1e-4a53-9d35-2f4f2f7f6a10/return-received",
        data={"csrf_token": _csrf(client), "quantity:TEA-LJ-250G": quantity},
        follow_redirects=False,
    )
    assert answer.status_code == 422, answer.text[:300]
    assert "quantity:TEA-LJ-250G: a whole number of units" in answer.text


def test_a_return_quantity_of_ascii_digits_goes_to_aftersales(client: TestClient) -> None:
    _sign_in(client, "t-wh")
    answer = client.post(
        "/cases/0b9e4c52-6c1e-4a53-9d35-2f4f2f7f6a10/return-received",
        data={"csrf_token": _csrf(client), "quantity:TEA-LJ-250G": " 3 "},
        follow_redirects=False,
    )
    assert answer.status_code == 503  # accepted by the form, then the closed upstream


def test_a_role_the_page_does_not_admit_gets_403_naming_it(client: TestClient) -> None:
    client.headers["Accept-Language"] = "en"
    _sign_in(client, "t-sre")
    for path in ("/queue", "/cases", "/pick-list"):
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert "does not carry the role" in answer.text
    assert "ops" in client.get("/queue").text


def test_sign_in_never_redirects_off_the_site(client: TestClient) -> None:
    for target in ("//evil.example/x", "https://evil.example", "/\\evil.example", "queue"):
        answer = _sign_in(client, "t-ops", next=target)
        assert answer.headers["location"] == "/queue", target  # type: ignore[attr-defined]
        client.cookies.clear()
    switched = client.get("/lang/en?next=//evil.example", follow_redirects=False)
    assert switched.headers["location"] == "/"


@pytest.mark.parametrize(
    "cookie",
    [
        "not-base64!",
        "eyJ0IjogMX0=",
        "W10=",
        "x" * 5000,
        encode_session("t-unknown", "someone"),
        encode_session("t-ops", "cs\x1bxiaolin"),  # a known token, a name no trail can show
        encode_session("t-ops", "x" * 65),
        encode_session("t-ops", " "),
        # Within the cookie's length, deeper than any JSON reader recurses.
        base64.urlsafe_b64encode(b"[" * 1530).decode(),
    ],
)
def test_a_malformed_or_foreign_session_cookie_is_no_session(
    client: TestClient, cookie: str
) -> None:
    client.cookies.set(SESSION_COOKIE, cookie)
    answer = client.get("/board", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/sign-in")


def test_an_htmx_poll_after_the_session_ended_asks_the_page_to_sign_in(client: TestClient) -> None:
    answer = client.get("/queue", headers={"HX-Request": "true"}, follow_redirects=False)
    assert answer.status_code == 401
    assert answer.headers["HX-Redirect"] == "/sign-in"


def test_every_answer_carries_the_security_headers(client: TestClient) -> None:
    answer = client.get("/sign-in")
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cache-control"] == "no-store"


def test_a_service_that_does_not_answer_is_named(client: TestClient) -> None:
    client.headers["Accept-Language"] = "en"
    _sign_in(client, "t-ops")
    queue = client.get("/queue")
    assert queue.status_code == 503
    assert "order-review did not answer" in queue.text
    board = client.get("/board")  # each service's part of the board says so on its own
    assert board.status_code == 200
    for service in ("order-review", "inventory", "fulfilment", "aftersales"):
        assert f"{service} did not answer" in board.text


@pytest.mark.parametrize(
    ("path", "field"),
    [("/queue?offset=-1", "offset"), ("/pick-list?warehouse=" + "W" * 65, "warehouse"),
     ("/orders/not-a-uuid", "order_id")],
)  # fmt: skip
def test_bad_parameters_are_named(client: TestClient, path: str, field: str) -> None:
    _sign_in(client, "t-ops")
    answer = client.get(path)
    assert answer.status_code == 422
    assert field in answer.text


def test_chinese_by_default_english_on_request(client: TestClient) -> None:
    assert "登录" in client.get("/sign-in").text
    assert "Sign in" in client.get("/sign-in", headers={"Accept-Language": "en-US"}).text
    client.get("/lang/en?next=/sign-in")
    assert "Sign in" in client.get("/sign-in").text


def test_a_form_over_the_body_limit_is_refused_before_it_is_read(client: TestClient) -> None:
    limit = _settings().max_body_bytes
    data = {"csrf_token": _csrf(client), "token": "t-ops", "operator": "x" * limit}
    answer = client.post("/sign-in", data=data, follow_redirects=False)
    assert answer.status_code == 413
    assert f"request body over {limit} bytes (LVYUE_MAX_BODY_BYTES)" in answer.text
