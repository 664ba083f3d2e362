"""Every route of the four services that reads a JSON body, really served, against the same
table of hostile bodies as the webhooks (tests.support.hostile): each is refused with the
status and the words of its limit, before any code of the route runs, and nothing is written.
And a control character in any text path parameter is a 400, never PostgreSQL's refusal as a
500 (a U+0000 in a SKU's name or path was one)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, params
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from lvyue.cli.embedded import EmbeddedBroker
from lvyue.common.routing import BoundedRoute
from tests.conftest import Databases
from tests.support.apps import SERVICES, quiet_service_app, serve, service_migrations
from tests.support.hostile import Hostile, hostile_bodies
from tests.support.inventory import OPS

GOOD = b'{"hostile_good": 1}'  # refused for its hostile member before the model is looked at


def _api_routes(app: FastAPI) -> list[APIRoute]:
    """Every operation of the app, its included routers' too (FastAPI 0.16x keeps them apart)."""
    found = (ctx.original_route for ctx in iter_route_contexts(app.routes))
    return [route for route in found if isinstance(route, APIRoute)]


def _json_routes(app: FastAPI) -> list[APIRoute]:
    return [
        route
        for route in _api_routes(app)
        if route.body_field is not None and not isinstance(route.body_field.field_info, params.Form)
    ]


def _path(route: APIRoute, text_value: str = "X-1") -> str:
    values: dict[str, Any] = {}
    for param in route.dependant.path_params:
        is_uuid = param.field_info.annotation is uuid.UUID
        values[param.name] = uuid.uuid4() if is_uuid else text_value
    return route.path_format.format(**values)


def _limits(table: list[Hostile]) -> list[Hostile]:
    """The rows about reading the body; "not an object" is the model's refusal, which comes
    after the route's role check (its 422 needs a token of the route's role)."""
    return [hostile for hostile in table if hostile.name != "not an object"]


async def _written(database_url: str) -> int:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text("SELECT count(*) FROM outbox"))).scalar_one())
    finally:
        await engine.dispose()


def _refused(response: httpx.Response, status: int, says: str, *where: object) -> None:
    context = (*where, response.text[:300])
    assert response.status_code == status, context
    assert response.headers["content-type"] == "application/problem+json", context
    assert says in response.json()["detail"], context


@pytest.mark.parametrize("service", SERVICES)
async def test_hostile_requests_are_refused_before_the_route_runs(
    service: str, databases: Databases, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    db = await databases.create(service_migrations(service))
    app = quiet_service_app(service, db, broker.bootstrap_servers, topic_prefix)
    with_body = _json_routes(app)
    with_path = [route for route in _api_routes(app) if route.dependant.path_params]
    assert with_body, service  # every service has operator routes with a body
    assert with_path, service
    async with serve(app) as client:
        for route in with_body:
            (method,) = tuple(route.methods or ())
            for hostile in _limits(hostile_bodies(GOOD)):
                headers = {**OPS, "content-type": hostile.content_type, **dict(hostile.headers)}
                response = await client.request(
                    method, _path(route), content=hostile.body, headers=headers
                )
                _refused(response, hostile.status, hostile.says, route.path, hostile.name)
        for route in with_path:
            (method,) = tuple(route.methods or ())
            for char in ("\x00", "\x1f", "\x7f"):
                escaped = f"%{ord(char):02X}"
                path = _path(route, f"X{escaped}1")
                if escaped not in path:  # ids only: one of them takes the character
                    path = path.replace("-", escaped, 1)
                response = await client.request(method, path, json={}, headers=OPS)
                _refused(response, 400, f"U+{ord(char):04X}", route.path, repr(char))
    assert await _written(db) == 0


def test_every_route_of_every_service_is_bounded(
    databases: Databases, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    """Routers built with APIRouter instead of the kernel's api_router would escape the
    bounds: every route of every service app (the console's too) must be a BoundedRoute."""
    from lvyue.console.main import build_app as console_app
    from lvyue.console.settings import ConsoleSettings

    apps = [
        quiet_service_app(s, "postgresql+asyncpg://u@127.0.0.1/none", "127.0.0.1:1", "")
        for s in SERVICES
    ]
    apps.append(console_app(ConsoleSettings(env="test")))
    for app in apps:
        routes = _api_routes(app)
        assert len(routes) > 3, app.title
        plain = [route.path for route in routes if not isinstance(route, BoundedRoute)]
        assert plain == [], app.title
