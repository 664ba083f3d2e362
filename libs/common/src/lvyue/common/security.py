"""Who may talk to us: webhook signatures, signed timestamps and operator bearer-token roles.

Pure functions plus one FastAPI dependency factory; secrets and tokens come from settings,
wired once at start-up (`app.state.tokens`), never from module globals.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Literal

from fastapi import HTTPException, Request, Security, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

SignatureEncoding = Literal["base64", "hex"]


def _key(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def sign_hmac_sha256(secret: str | bytes, body: bytes) -> bytes:
    """The raw HMAC-SHA256 digest of body under secret (32 bytes)."""
    key = _key(secret)
    if not key:
        raise ValueError("refusing to sign with an empty secret")
    return hmac.new(key, body, hashlib.sha256).digest()


def _decode_signature(signature: str, encoding: SignatureEncoding) -> bytes | None:
    text = signature.strip()
    try:
        if encoding == "base64":
            return base64.b64decode(text, validate=True)
        return bytes.fromhex(text)
    except (binascii.Error, ValueError):  # non-ASCII input raises plain ValueError
        return None


def verify_hmac_sha256(
    secret: str | bytes, body: bytes, signature: str, *, encoding: SignatureEncoding
) -> bool:
    """Whether signature is the HMAC-SHA256 of the raw body; malformed input is just False."""
    key = _key(secret)
    if not key:
        # Anyone can compute an HMAC under an empty key: treat it as "no secret configured".
        return False
    given = _decode_signature(signature, encoding)
    if given is None:
        return False
    expected = hmac.new(key, body, hashlib.sha256).digest()
    return hmac.compare_digest(expected, given)


def _parse_timestamp(timestamp: datetime | int | str) -> datetime | None:
    if isinstance(timestamp, datetime):
        return timestamp if timestamp.tzinfo is not None else None
    if isinstance(timestamp, bool):  # bool is an int; True is not a point in time
        return None
    try:
        if isinstance(timestamp, int):
            return datetime.fromtimestamp(timestamp, UTC)
        text = timestamp.strip()
        if text.isascii() and text.isdigit():
            return datetime.fromtimestamp(int(text), UTC)
        parsed = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        return None
    return parsed if parsed.tzinfo is not None else None


def verify_timestamp(timestamp: datetime | int | str, now: datetime, tolerance: timedelta) -> bool:
    """Whether a signed timestamp lies within tolerance of now, either side (clock skew).

    Accepts unix seconds (int or digit string), ISO 8601 with an offset, or an aware
    datetime; anything unparsable or naive is False. `now` must be timezone-aware.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if tolerance < timedelta(0):
        raise ValueError("tolerance must not be negative")
    moment = _parse_timestamp(timestamp)
    if moment is None:
        return False
    return abs(now - moment) <= tolerance


class Role(StrEnum):
    """Operator API roles."""

    PLATFORM = "platform"
    OPS = "ops"
    WAREHOUSE = "warehouse"
    SRE = "sre"


GrantedRoles = frozenset[Role]
"""What a `require_role` dependency returns: every role the caller's token carries.

Typed route alias, e.g.:
    OpsRoles = Annotated[GrantedRoles, Depends(require_role(Role.OPS))]
"""


def _digest(token: str) -> bytes:
    # Compare fixed-length digests so neither content nor length leaks through timing.
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True, slots=True)
class _Entry:
    digest: bytes
    role: Role


class TokenRegistry:
    """Known bearer tokens and the roles they grant; one token may carry several roles."""

    def __init__(self, entries: Iterable[tuple[Role, str]]) -> None:
        built: list[_Entry] = []
        for role, token in entries:
            if not token or token != token.strip():
                raise ValueError(f"a {role} token is empty or has surrounding whitespace")
            built.append(_Entry(_digest(token), role))
        self._entries = tuple(built)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Iterable[str]]) -> TokenRegistry:
        """Build from role name -> tokens, e.g. {"ops": ["t1"], "sre": ["t2"]}."""
        entries: list[tuple[Role, str]] = []
        for name, tokens in mapping.items():
            try:
                role = Role(name)
            except ValueError:
                known = ", ".join(r.value for r in Role)
                raise ValueError(f"unknown role {name!r}; known roles: {known}") from None
            entries.extend((role, token) for token in tokens)
        return cls(entries)

    def roles_for(self, token: str) -> GrantedRoles:
        """The roles a token grants; empty when the token is unknown."""
        given = _digest(token)
        # No early exit: every known token is compared, whatever matches.
        return frozenset(e.role for e in self._entries if hmac.compare_digest(e.digest, given))


_BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def _bearer_token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing or malformed bearer token",
            headers=_BEARER_CHALLENGE,
        )
    return token


BEARER = HTTPBearer(
    scheme_name="bearer",
    description="An operator token: each grants one or more roles (ops, warehouse, sre, "
    "platform); `make run` prints the development token of every role.",
    auto_error=False,  # require_role answers 401 itself, with the challenge and a Problem body
)
"""The security scheme of every operation that needs a token; its scopes are the roles."""


def require_role(
    *roles: Role,
) -> Callable[[Request, HTTPAuthorizationCredentials | None], Awaitable[GrantedRoles]]:
    """A FastAPI dependency: the caller's bearer token must carry one of roles.

    With no roles, any known token passes. Returns the caller's granted roles.
    The registry is read from `request.app.state.tokens`, set once at start-up.
    The OpenAPI schema declares the `bearer` scheme on the operation, the roles as its scopes.
    """
    wanted = frozenset(roles)
    scopes = sorted(r.value for r in wanted)

    async def dependency(
        request: Request,
        _: HTTPAuthorizationCredentials | None = Security(BEARER, scopes=scopes),
    ) -> GrantedRoles:
        token = _bearer_token(request)
        registry = getattr(request.app.state, "tokens", None)
        if not isinstance(registry, TokenRegistry):
            raise RuntimeError("app.state.tokens must be a TokenRegistry, set at start-up")
        granted = registry.roles_for(token)
        if not granted:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, "unknown token", headers=_BEARER_CHALLENGE
            )
        if wanted and not granted & wanted:
            needed = " or ".join(sorted(r.value for r in wanted))
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {needed} required")
        return granted

    return dependency
