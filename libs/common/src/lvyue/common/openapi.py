"""An OpenAPI schema an integrator can work from alone, and its viewers served without a CDN.

Routes declare what only they know: `responses=problem_responses(404, 409)` for the errors of
their own rules, `openapi_extra=public(...)` when no bearer token is asked. `complete_openapi`
adds what follows from the route itself: the roles of its `bearer` requirement (`x-roles`,
and in the description), 401/403 where a token is asked, 422 where there is anything to
validate, 503 where the database is used, and the `Problem` body (application/problem+json)
on every error status.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from pydantic import ConfigDict
from starlette.routing import BaseRoute

from lvyue.common.problems import PROBLEM_MEDIA_TYPE, FieldError, Problem

PROBLEM_REF = "#/components/schemas/Problem"
DOCS_ASSETS = "/docs-assets"
ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"

_DESCRIPTIONS: dict[int, str] = {
    400: "A path parameter holds a control character (U+0000 to U+001F, U+007F).",
    401: "No bearer token, a malformed one, or an unknown one (WWW-Authenticate: Bearer).",
    403: "The token is known but carries none of the roles the operation needs.",
    404: "No such resource.",
    408: "The whole body did not arrive within LVYUE_BODY_TIMEOUT_S (30 s by default) of its "
    "first bytes.",
    409: "The resource's state refuses it: `detail` says why; extension members name the "
    "state or rule.",
    413: "The body is larger than the limit: 1 MiB for a webhook, LVYUE_MAX_BODY_BYTES "
    "(1 MiB by default) for any other body.",
    415: "Not application/json, another charset than UTF-8, or bytes that are not UTF-8.",
    422: "The request breaks the schema or a rule about its values, or its JSON a limit "
    "(nesting deeper than 32, an integer over 20 digits, a key twice, U+0000 or a lone "
    "surrogate in text): `errors` names each field.",
    503: "PostgreSQL cannot be reached: nothing was changed; retry after Retry-After seconds.",
}

_NO_DATABASE = frozenset({"/livez", "/metrics", "/readyz"})
_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})


def problem_responses(
    *statuses: int, described: Mapping[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route's error statuses, each a `Problem` (descriptions by default,
    or `described`)."""
    own = described or {}
    return {
        status: {"model": Problem, "description": own.get(status, _DESCRIPTIONS.get(status, ""))}
        for status in sorted({*statuses, *own})
    }


def public(why: str) -> dict[str, Any]:
    """`openapi_extra=` of an operation that asks no bearer token, and why."""
    return {"x-public": True, "x-public-reason": why}


def _problem_content() -> dict[str, Any]:
    return {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}}


def _is_other_schema(response: Mapping[str, Any]) -> bool:
    """A declared error body that is not a Problem (e.g. /readyz's 503): left as declared."""
    for media in response.get("content", {}).values():
        ref = media.get("schema", {}).get("$ref")
        if ref is not None and ref != PROBLEM_REF and not ref.endswith("/HTTPValidationError"):
            return True
    return False


def _roles_of(operation: Mapping[str, Any]) -> list[str] | None:
    requirements: Iterable[Mapping[str, list[str]]] = operation.get("security") or ()
    scopes: set[str] = set()
    found = False
    for requirement in requirements:
        for scheme_scopes in requirement.values():
            found = True
            scopes.update(scheme_scopes)
    return sorted(scopes) if found else None


def _complete_operation(path: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    roles = _roles_of(operation)
    lines = []
    if roles is not None:
        operation["x-roles"] = roles
        lines.append(
            f"**Roles:** {' or '.join(roles)} (bearer token)."
            if roles
            else "**Roles:** any known bearer token."
        )
        responses.setdefault("401", {"description": _DESCRIPTIONS[401]})
        if roles:
            responses.setdefault("403", {"description": _DESCRIPTIONS[403]})
    elif operation.get("x-public"):
        operation["security"] = []
        lines.append(f"**Public:** no bearer token; {operation.get('x-public-reason', '')}")
    if operation.get("parameters") or operation.get("requestBody"):
        responses.setdefault("422", {"description": _DESCRIPTIONS[422]})
    if any(p.get("in") == "path" for p in operation.get("parameters", ())):
        responses.setdefault("400", {"description": _DESCRIPTIONS[400]})
    if operation.get("requestBody"):
        responses.setdefault("408", {"description": _DESCRIPTIONS[408]})
        responses.setdefault("413", {"description": _DESCRIPTIONS[413]})
        responses.setdefault("415", {"description": _DESCRIPTIONS[415]})
    if path not in _NO_DATABASE:
        responses.setdefault("503", {"description": _DESCRIPTIONS[503]})
    for code, response in responses.items():
        if not code.isdigit() or int(code) < 400 or _is_other_schema(response):
            continue
        response["content"] = _problem_content()
        if response.get("description") in ("", "Validation Error"):
            response["description"] = _DESCRIPTIONS.get(int(code), "An error.")
        if code == "401":
            response["headers"] = {
                "WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}
            }
        if code == "503":
            response["headers"] = {
                "Retry-After": {"schema": {"type": "string"}, "description": "Seconds."}
            }
    if lines:
        described = operation.get("description", "").rstrip()
        operation["description"] = "\n\n".join([*([described] if described else []), *lines])


def _restore_examples(schema: dict[str, Any], routes: Iterable[BaseRoute]) -> None:
    for name, component in schema["components"]["schemas"].items():
        if "examples" in component and name in _EXAMPLES:
            component["examples"] = copy.deepcopy(_EXAMPLES[name])
    for route in routes:
        body = (getattr(route, "openapi_extra", None) or {}).get("requestBody")
        if not isinstance(route, APIRoute) or body is None:
            continue
        for method in route.methods or ():
            operation = schema["paths"].get(route.path_format, {}).get(method.lower())
            if operation is not None:
                operation["requestBody"] = copy.deepcopy(body)


def complete_openapi(schema: dict[str, Any], routes: Iterable[BaseRoute] = ()) -> dict[str, Any]:
    """Adds what every operation's routes imply (see the module docstring), in place."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (Problem, FieldError):
        built = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(built.pop("$defs", {}))
        components[model.__name__] = built
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method in _METHODS:
                _complete_operation(path, operation)
    _restore_examples(schema, routes)
    text = repr(schema.get("paths", {}))
    for unused in ("HTTPValidationError", "ValidationError"):
        if f"/{unused}'" not in text:
            components.pop(unused, None)
    return schema


def install_openapi(app: FastAPI, *, docs: bool) -> None:
    """The completed schema at /openapi.json and, with docs, Swagger UI at /docs and ReDoc at
    /redoc from assets served here (/docs-assets), so they work offline."""
    default: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete_openapi(default(), app.routes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    if not docs:
        return
    app.mount(DOCS_ASSETS, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
    title = app.title

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{title} - Swagger UI",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            swagger_ui_parameters={"persistAuthorization": True},
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title=f"{title} - ReDoc",
            redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )


# FastAPI writes the schema with exclude_none, which would drop every null of an example:
# the examples are kept here by model name and put back whole by complete_openapi.
_EXAMPLES: dict[str, list[dict[str, Any]]] = {}


def examples(*values: Mapping[str, Any]) -> ConfigDict:
    """`model_config = examples({...})`: the schema's examples, shown by /docs and checked
    against the schema by tests/unit/common/test_openapi_contract.py."""
    chosen = [dict(v) for v in values]

    def extra(schema: dict[str, Any], model: type[Any]) -> None:
        schema["examples"] = copy.deepcopy(chosen)
        _EXAMPLES[model.__name__] = chosen

    return ConfigDict(json_schema_extra=extra)


def page_of(item: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """The example of a list page holding item: {items, total, limit, offset}."""
    return {"items": [dict(item)], "total": 1, "limit": 100, "offset": 0, **extra}
