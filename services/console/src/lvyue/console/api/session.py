"""Who is signed in, and the CSRF token of every form.

The session cookie holds the operator's bearer token and name (HttpOnly, SameSite=Strict): the
console forwards the token to the services, which check it again, and the name as X-Operator
for their audit trails. Forms carry a signed double-submit token: HMAC(secret, a random value
kept in its own cookie), so a page of another site can neither read nor forge it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from fastapi import Request, Response

from lvyue.common.bounded_json import parse_json
from lvyue.common.operator_header import OperatorNameError, check_operator_name
from lvyue.common.security import GrantedRoles, Role, TokenRegistry

SESSION_COOKIE = "lvyue_console"
CSRF_COOKIE = "lvyue_console_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# A cookie larger than this was not written by us (a 512-character token and a name of 64
# four-byte characters, in base64, take about 1,050): refuse it before decoding.
_COOKIE_MAX = 2048


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    operator: str
    roles: GrantedRoles

    def has(self, *roles: Role) -> bool:
        return bool(self.roles & frozenset(roles))


def encode_session(token: str, operator: str) -> str:
    raw = json.dumps({"t": token, "o": operator}, ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode()


def read_session(request: Request, registry: TokenRegistry) -> Session | None:
    """The signed-in operator, or None: no cookie, a malformed one, or a token no longer known."""
    value = request.cookies.get(SESSION_COOKIE)
    if not value or len(value) > _COOKIE_MAX:
        return None
    try:
        data = parse_json(base64.urlsafe_b64decode(value.encode()))
    except (binascii.Error, ValueError):  # JsonRefused is one: deep nesting, not UTF-8, ...
        return None
    if not isinstance(data, dict):
        return None
    token, operator = data.get("t"), data.get("o")
    if not isinstance(token, str) or not isinstance(operator, str) or not token:
        return None
    try:
        operator = check_operator_name(operator)
    except OperatorNameError:
        return None
    roles = registry.roles_for(token)
    return Session(token, operator, roles) if roles and operator else None


def set_session(response: Response, token: str, operator: str, *, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        encode_session(token, operator),
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")


class Csrf:
    """Signed double-submit tokens: the form's token is HMAC(secret, the visitor's seed)."""

    def __init__(self, secret: bytes, *, secure: bool) -> None:
        self._secret = secret
        self._secure = secure

    def seed(self, request: Request) -> str | None:
        seed = request.cookies.get(CSRF_COOKIE)
        return seed if seed and len(seed) <= 64 else None

    def token_for(self, seed: str) -> str:
        return hmac.new(self._secret, seed.encode(), hashlib.sha256).hexdigest()

    def issue(self, request: Request, response: Response) -> str:
        """The token for this visitor's forms; a new seed cookie if they have none yet."""
        seed = self.seed(request)
        if seed is None:
            seed = secrets.token_urlsafe(32)
            response.set_cookie(
                CSRF_COOKIE, seed, httponly=True, samesite="strict", secure=self._secure, path="/"
            )
        return self.token_for(seed)

    def valid(self, request: Request, given: str | None) -> bool:
        seed = self.seed(request)
        # compare_digest raises TypeError on non-ASCII str; such a token is simply not ours.
        if seed is None or not given or not given.isascii():
            return False
        return hmac.compare_digest(self.token_for(seed), given)
