"""What every page needs: the console's state, the signed-in operator and their language, and
the role checks (a visitor without a session goes to sign-in; one without the role gets 403)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from lvyue.common.security import Role, TokenRegistry
from lvyue.console.api.session import CSRF_FIELD, CSRF_HEADER, Csrf, Session, read_session
from lvyue.console.i18n import LANG_COOKIE, Translator, choose_language
from lvyue.console.paging import pages
from lvyue.console.settings import ConsoleSettings
from lvyue.console.upstream import Service, Upstream
from lvyue.console.views import countdown, display_time, masked, time_left

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")
TEMPLATES.env.globals.update(masked=masked, countdown=countdown)


# The pages in the header, each shown to the roles that may open it.
NAV: tuple[tuple[str, str, frozenset[Role]], ...] = (
    ("/queue", "queue", frozenset({Role.OPS})),
    ("/pick-list", "pick_list", frozenset({Role.WAREHOUSE, Role.OPS})),
    ("/cases", "cases", frozenset({Role.WAREHOUSE, Role.OPS})),
    ("/board", "sla_board", frozenset({Role.OPS, Role.WAREHOUSE, Role.SRE})),
    ("/dead-letters", "dead_letters", frozenset({Role.SRE})),
)


@dataclass(frozen=True)
class ConsoleState:
    settings: ConsoleSettings
    tokens: TokenRegistry
    csrf: Csrf
    upstream: Upstream


async def get_state(request: Request) -> ConsoleState:
    state: ConsoleState = request.app.state.console
    return state


StateDep = Annotated[ConsoleState, Depends(get_state)]


class SignInRequired(Exception):
    """No (valid) session: the handler redirects to the sign-in page."""


class Forbidden(Exception):
    """Signed in, without the page's role: the handler answers 403 with a page saying which."""

    def __init__(self, roles: frozenset[Role]) -> None:
        super().__init__(", ".join(sorted(roles)))
        self.roles = roles


class CsrfFailed(Exception):
    """A form without the visitor's CSRF token: refused before anything is sent on."""


@dataclass(frozen=True)
class Page:
    """One request's view: who, in which language, and how to render for them."""

    request: Request
    state: ConsoleState
    session: Session | None
    t: Translator

    @property
    def settings(self) -> ConsoleSettings:
        return self.state.settings

    @property
    def operator(self) -> Session:
        if self.session is None:
            raise SignInRequired
        return self.session

    @property
    def zone(self) -> ZoneInfo:
        """The console's time zone, times are shown in."""
        return ZoneInfo(self.settings.timezone)

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        csrf = self.state.csrf.token_for(self.request.state.csrf_seed)
        zone = self.zone
        return TEMPLATES.TemplateResponse(
            self.request,
            template,
            {
                "t": self.t,
                "lang": self.t.language,
                "session": self.session,
                "nav": [
                    (path, key)
                    for path, key, roles in NAV
                    if self.session is not None and self.session.has(*roles)
                ],
                "csrf_token": csrf,
                "csrf_field": CSRF_FIELD,
                "csrf_header": CSRF_HEADER,
                "refresh_s": self.settings.console_refresh_s,
                "now": datetime.now(zone),
                "when": lambda at, tz=None: display_time(at, ZoneInfo(tz) if tz else zone),
                "left": time_left,
                **context,
            },
            status_code=status_code,
        )

    async def list_page(
        self,
        service: Service,
        path: str,
        filters: Mapping[str, str | bool | None],
        *,
        offset: int,
        templates: tuple[str, str],
        items: str,
        **context: Any,
    ) -> Response:
        """A list the service pages: `templates` are (the page, its rows); with HX-Request
        only the rows, which the page polls. The rows come as `items`, with total and pages."""
        size = self.settings.console_page_size
        params = {**filters, "limit": size, "offset": offset}
        answer = await self.state.upstream.get(service, path, self.operator, params)
        if not answer.ok:
            return self.render("message.html", answer.status, heading=answer.detail)
        total = answer.body["total"]
        page, rows = templates
        return self.render(
            rows if self.request.headers.get("HX-Request") else page,
            **{items: answer.body["items"]},
            total=total,
            pages=pages(total, offset, size),
            offset=offset,
            **context,
        )

    async def act(
        self, service: Service, path: str, body: object, *, done: str, back: str
    ) -> Response:
        """One operator action on a service: on success to `done` (post, redirect, get); else
        a page saying what the service refused and why, with the way `back`."""
        answer = await self.state.upstream.post(service, path, self.operator, body)
        if not answer.ok:
            return self.render("message.html", answer.status, heading=answer.detail, back=back)
        return RedirectResponse(done, status_code=303)

    def in_zone_of_shop(self, platform: str, shop_id: str) -> str:
        return self.settings.shop_timezone(platform, shop_id).key

    def in_zone_of_warehouse(self, warehouse_id: str) -> str:
        config = self.settings.warehouses.get(warehouse_id)
        return (config.timezone if config and config.timezone else None) or self.settings.timezone


async def get_page(request: Request, state: StateDep) -> Page:
    language = choose_language(
        request.cookies.get(LANG_COOKIE), request.headers.get("accept-language")
    )
    return Page(request, state, read_session(request, state.tokens), Translator(language))


PageDep = Annotated[Page, Depends(get_page)]


def require(*roles: Role) -> Callable[[Page], Awaitable[Page]]:
    """A page's dependency: signed in, with one of roles."""
    wanted = frozenset(roles)

    async def dependency(page: PageDep) -> Page:
        session = page.operator
        if not session.has(*wanted):
            raise Forbidden(wanted)
        return page

    return dependency


async def check_csrf(request: Request, state: StateDep) -> None:
    """Every form and htmx POST carries the token, in the form or in the X-CSRF-Token header."""
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not state.csrf.valid(request, given):
        raise CsrfFailed


Ops = Annotated[Page, Depends(require(Role.OPS))]
WarehouseLead = Annotated[Page, Depends(require(Role.WAREHOUSE, Role.OPS))]
CaseWorker = WarehouseLead  # agents answer cases; the warehouse records what came back
Viewer = Annotated[Page, Depends(require(Role.OPS, Role.WAREHOUSE, Role.SRE))]
Sre = Annotated[Page, Depends(require(Role.SRE))]
Form = Mapping[str, str]
