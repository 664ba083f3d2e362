"""Signing in and out, and the language switch."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import Depends, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from lvyue.common.operator_header import OperatorNameError, check_operator_name
from lvyue.common.routing import api_router
from lvyue.common.security import Role
from lvyue.console.api.deps import PageDep, check_csrf
from lvyue.console.api.session import Session, clear_session, set_session
from lvyue.console.i18n import LANG_COOKIE, LANGUAGES

router = api_router()
log = structlog.get_logger(__name__)


def safe_next(target: str | None) -> str:
    """Only a path of this site: never `//host` or a scheme, so sign-in cannot send one away."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target[:512]


def home_of(session: Session) -> str:
    if session.has(Role.OPS):
        return "/queue"
    if session.has(Role.WAREHOUSE):
        return "/pick-list"
    return "/board"


@router.get("/", include_in_schema=False)
async def home(page: PageDep) -> Response:
    if page.session is None:
        return RedirectResponse("/sign-in", status_code=303)
    return RedirectResponse(home_of(page.session), status_code=303)


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_form(page: PageDep, next: str | None = None) -> Response:
    return page.render("sign_in.html", next=safe_next(next), operator="")


@router.post("/sign-in", dependencies=[Depends(check_csrf)])
async def sign_in(
    page: PageDep,
    token: Annotated[str, Form(max_length=512)] = "",  # empty: refused below, with a reason
    operator: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=512)] = "/",
) -> Response:
    """The token must be one the services know; the name goes with every action."""
    try:
        name = check_operator_name(operator)
    except OperatorNameError:
        name = ""
    if not name:
        return page.render(
            "sign_in.html", 422, error=page.t("bad_operator"), next=safe_next(next), operator=""
        )
    token = token.strip()
    roles = page.state.tokens.roles_for(token) if token else frozenset()
    if not roles:
        log.warning("console_sign_in_refused", operator=name)
        return page.render(
            "sign_in.html", 401, error=page.t("bad_token"), next=safe_next(next), operator=name
        )
    log.info("console_signed_in", operator=name, roles=sorted(str(r) for r in roles))
    target = safe_next(next)
    response = RedirectResponse(
        target if target != "/" else home_of(Session(token, name, roles)), status_code=303
    )
    set_session(response, token, name, secure=page.settings.secure_cookies)
    return response


@router.post("/sign-out", dependencies=[Depends(check_csrf)])
async def sign_out() -> Response:
    response = RedirectResponse("/sign-in", status_code=303)
    clear_session(response)
    return response


@router.get("/lang/{language}")
async def switch_language(page: PageDep, language: str, next: str | None = None) -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if language in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, language, samesite="lax", secure=page.settings.secure_cookies, path="/"
        )
    return response
