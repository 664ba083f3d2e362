"""Webhook signatures, signed timestamps and bearer-token roles (plain objects, no DB)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from lvyue.common.problems import install_problem_handlers
from lvyue.common.security import (
    GrantedRoles,
    Role,
    TokenRegistry,
    require_role,
    sign_hmac_sha256,
    verify_hmac_sha256,
    verify_timestamp,
)

SECRET = "s3cret"
BODY = b'{"id": 820982911946154508, "note": "\xe5\x8a\xa0\xe6\x80\xa5"}'
NOW = datetime(2024, 6, 18, 13, 0, 0, tzinfo=UTC)
FIVE_MIN = timedelta(minutes=5)


# --- HMAC signatures ----------------------------------------------------------------------


def test_sign_returns_the_raw_sha256_hmac_digest() -> None:
    digest = sign_hmac_sha256(SECRET, BODY)
    assert digest == hmac.new(SECRET.encode(), BODY, hashlib.sha256).digest()
    assert len(digest) == 32
    assert sign_hmac_sha256(SECRET.encode(), BODY) == digest


def test_sign_refuses_an_empty_secret() -> None:
    with pytest.raises(ValueError, match="empty secret"):
        sign_hmac_sha256("", BODY)


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [("base64", lambda d: base64.b64encode(d).decode()), ("hex", lambda d: d.hex())],
)
def test_valid_signature_verifies_in_both_encodings(encoding, encode) -> None:
    signature = encode(sign_hmac_sha256(SECRET, BODY))
    assert verify_hmac_sha256(SECRET, BODY, signature, encoding=encoding)
    assert verify_hmac_sha256(SECRET.encode(), BODY, signature, encoding=encoding)


def test_hex_signature_is_case_insensitive_and_tolerates_surrounding_whitespace() -> None:
    signature = sign_hmac_sha256(SECRET, BODY).hex().upper()
    assert verify_hmac_sha256(SECRET, BODY, f"  {signature}\n", encoding="hex")


def test_tampered_body_fails_verification() -> None:
    signature = base64.b64encode(sign_hmac_sha256(SECRET, BODY)).decode()
    assert not verify_hmac_sha256(SECRET, BODY + b" ", signature, encoding="base64")
    assert not verify_hmac_sha256(SECRET, BODY.replace(b"82", b"83"), signature, encoding="base64")


def test_wrong_secret_fails_verification() -> None:
    signature = sign_hmac_sha256(SECRET, BODY).hex()
    assert not verify_hmac_sha256("other", BODY, signature, encoding="hex")


def test_signature_in_the_wrong_encoding_fails() -> None:
    hex_signature = sign_hmac_sha256(SECRET, BODY).hex()
    assert not verify_hmac_sha256(SECRET, BODY, hex_signature, encoding="base64")


@pytest.mark.parametrize(
    "signature", ["", "   ", "not base64 !!", "zz", "abc", "签名", "sha256=abcd", "=" * 44]
)
@pytest.mark.parametrize("encoding", ["base64", "hex"])
def test_malformed_signature_returns_false_and_never_raises(signature, encoding) -> None:
    assert verify_hmac_sha256(SECRET, BODY, signature, encoding=encoding) is False


def test_empty_secret_never_verifies() -> None:
    # An HMAC under an empty key is computable by anyone.
    signature = hmac.new(b"", BODY, hashlib.sha256).hexdigest()
    assert not verify_hmac_sha256("", BODY, signature, encoding="hex")


# --- signed timestamps --------------------------------------------------------------------


@pytest.mark.parametrize(
    "timestamp",
    [
        int(NOW.timestamp()),
        str(int(NOW.timestamp()) - 299),
        int(NOW.timestamp()) + 300,  # the boundary itself is inside
        "2024-06-18T21:02:00+08:00",
        "2024-06-18T12:56:00Z",
        NOW - timedelta(minutes=4),
        datetime(2024, 6, 18, 21, 3, tzinfo=timezone(timedelta(hours=8))),
    ],
)
def test_timestamp_within_tolerance_is_accepted(timestamp) -> None:
    assert verify_timestamp(timestamp, NOW, FIVE_MIN)


@pytest.mark.parametrize(
    "timestamp",
    [
        int(NOW.timestamp()) - 301,
        str(int(NOW.timestamp()) + 301),
        NOW + timedelta(minutes=6),
        "2024-06-18T12:54:59Z",
    ],
)
def test_timestamp_outside_tolerance_either_side_is_rejected(timestamp) -> None:
    assert not verify_timestamp(timestamp, NOW, FIVE_MIN)


@pytest.mark.parametrize(
    "timestamp",
    ["", "yesterday", "1718715600.5", "-5", "2024-06-18T13:00:00", True, 10**20, "9" * 30],
)
def test_unparsable_or_naive_timestamp_is_rejected(timestamp) -> None:
    assert verify_timestamp(timestamp, NOW, FIVE_MIN) is False


def test_naive_datetime_timestamp_is_rejected() -> None:
    assert not verify_timestamp(NOW.replace(tzinfo=None), NOW, FIVE_MIN)


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        verify_timestamp(int(NOW.timestamp()), NOW.replace(tzinfo=None), FIVE_MIN)


def test_negative_tolerance_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="tolerance"):
        verify_timestamp(int(NOW.timestamp()), NOW, -FIVE_MIN)


# --- token registry -----------------------------------------------------------------------


def test_registry_maps_tokens_to_roles() -> None:
    registry = TokenRegistry.from_mapping(
        {"ops": ["t-ops", "t-shared"], "sre": ["t-sre", "t-shared"], "warehouse": []}
    )
    assert registry.roles_for("t-ops") == frozenset({Role.OPS})
    assert registry.roles_for("t-shared") == frozenset({Role.OPS, Role.SRE})
    assert registry.roles_for("t-nobody") == frozenset()
    assert registry.roles_for("") == frozenset()
    assert registry.roles_for("t-ops ") == frozenset()


def test_registry_accepts_role_enum_keys() -> None:
    registry = TokenRegistry.from_mapping({Role.PLATFORM: ["p1"]})
    assert registry.roles_for("p1") == frozenset({Role.PLATFORM})


def test_registry_rejects_an_unknown_role() -> None:
    with pytest.raises(ValueError, match="unknown role 'admin'"):
        TokenRegistry.from_mapping({"admin": ["t"]})


@pytest.mark.parametrize("token", ["", " padded", "padded\n"])
def test_registry_rejects_empty_or_padded_tokens(token) -> None:
    with pytest.raises(ValueError, match="empty or has surrounding whitespace"):
        TokenRegistry.from_mapping({"ops": [token]})


# --- require_role through a tiny FastAPI app ----------------------------------------------

OpsRoles = Annotated[GrantedRoles, Depends(require_role(Role.OPS))]
AnyKnownRoles = Annotated[GrantedRoles, Depends(require_role())]


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)  # as create_app does: errors answer a Problem
    app.state.tokens = TokenRegistry.from_mapping(
        {"ops": ["ops-token", "both-token"], "sre": ["sre-token", "both-token"]}
    )

    @app.get("/ops")
    async def ops_only(roles: OpsRoles) -> list[str]:
        return sorted(roles)

    @app.get("/ops-or-warehouse")
    async def ops_or_warehouse(
        roles: Annotated[GrantedRoles, Depends(require_role(Role.WAREHOUSE, Role.OPS))],
    ) -> list[str]:
        return sorted(roles)

    @app.get("/anyone")
    async def anyone(roles: AnyKnownRoles) -> list[str]:
        return sorted(roles)

    return app


@pytest.fixture
def client() -> TestClient:
    return TestClient(_app())


def _problem(status: int, detail: str) -> dict[str, object]:
    title = {401: "Unauthorized", 403: "Forbidden"}[status]
    kind = {401: "unauthorized", 403: "forbidden"}[status]
    return {"type": f"urn:lvyue:problem:{kind}", "title": title, "status": status, "detail": detail}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_missing_authorization_is_401_with_bearer_challenge(client: TestClient) -> None:
    response = client.get("/ops")
    assert response.status_code == 401
    assert response.json() == _problem(401, "missing or malformed bearer token")
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "value", ["Basic b3BzOnB3", "Bearer", "Bearer   ", "ops-token", "Bearer a b"]
)
def test_malformed_authorization_is_401(client: TestClient, value: str) -> None:
    response = client.get("/ops", headers={"Authorization": value})
    assert response.status_code == 401
    assert response.json()["detail"] == "missing or malformed bearer token"


def test_unknown_token_is_401(client: TestClient) -> None:
    response = client.get("/ops", headers=_bearer("guess"))
    assert response.status_code == 401
    assert response.json() == _problem(401, "unknown token")
    assert response.headers["www-authenticate"] == "Bearer"


def test_known_token_without_the_role_is_403(client: TestClient) -> None:
    response = client.get("/ops", headers=_bearer("sre-token"))
    assert response.status_code == 403
    assert response.json() == _problem(403, "role ops required")


def test_403_names_every_accepted_role(client: TestClient) -> None:
    response = client.get("/ops-or-warehouse", headers=_bearer("sre-token"))
    assert response.status_code == 403
    assert response.json() == _problem(403, "role ops or warehouse required")


def test_token_with_the_role_passes_and_gets_all_its_roles(client: TestClient) -> None:
    assert client.get("/ops", headers=_bearer("ops-token")).json() == ["ops"]
    assert client.get("/ops", headers=_bearer("both-token")).json() == ["ops", "sre"]
    assert client.get("/ops-or-warehouse", headers=_bearer("ops-token")).status_code == 200


def test_bearer_scheme_is_case_insensitive(client: TestClient) -> None:
    response = client.get("/ops", headers={"Authorization": "bearer ops-token"})
    assert response.status_code == 200


def test_require_role_without_roles_accepts_any_known_token(client: TestClient) -> None:
    assert client.get("/anyone", headers=_bearer("sre-token")).json() == ["sre"]
    assert client.get("/anyone", headers=_bearer("nope")).status_code == 401


def test_missing_registry_is_a_wiring_error() -> None:
    app = FastAPI()

    @app.get("/ops")
    async def ops_only(roles: OpsRoles) -> list[str]:
        return sorted(roles)

    with (
        TestClient(app, raise_server_exceptions=True) as client,
        pytest.raises(RuntimeError, match=r"app\.state\.tokens"),
    ):
        client.get("/ops", headers=_bearer("ops-token"))
