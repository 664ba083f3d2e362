"""Every text an operator or integrator sends in a JSON body, in every service, refuses control and
format characters (lvyue.common.contracts.text), naming the field: each string of each body's
OpenAPI example is sent again with an ESC or a U+202E (right-to-left override) in it. Found by
walking the apps' routes, so a new body or field is covered without being listed here."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import params
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import TypeAdapter, ValidationError

from lvyue.aftersales.api.schemas import RejectionCreate
from lvyue.inventory.api.schemas import ReceiptCreate
from tests.support.apps import SERVICES, service_app

Path = tuple[str | int, ...]
HOSTILE = {"U+001B": "\x1b[31m", "U+202E": "\u202e", "U+200B": "\u200b"}


def _bodies(service: str) -> list[tuple[str, Any, Any]]:
    """(route, body annotation, its example) for every JSON body the service reads."""
    app = service_app(service, "postgresql+asyncpg://u@127.0.0.1:1/d", "127.0.0.1:1", "t.")
    schema = app.openapi()
    found = []
    for ctx in iter_route_contexts(app.routes):
        route = ctx.original_route
        if not isinstance(route, APIRoute) or route.body_field is None:
            continue
        if isinstance(route.body_field.field_info, params.Form):
            continue
        (method,) = tuple(route.methods or ())
        body = schema["paths"][route.path][method.lower()]["requestBody"]["content"]
        example = _example(schema, body["application/json"]["schema"])
        found.append((f"{method} {route.path}", route.body_field.field_info.annotation, example))
    return found


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _example(schema: dict[str, Any], node: dict[str, Any]) -> Any:
    node = _resolve(schema, node)
    if node.get("type") == "array":
        return [_example(schema, node["items"])]
    for option in node.get("anyOf", []):
        if option.get("type") != "null":
            return _example(schema, option)
    return copy.deepcopy(node["examples"][0])


def _strings(value: Any, path: Path = ()) -> Iterator[tuple[Path, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def _with(example: Any, path: Path, text: str) -> Any:
    changed = copy.deepcopy(example)
    holder = changed
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = text
    return changed


def _errors(adapter: TypeAdapter[Any], body: Any) -> list[Any] | None:
    try:
        adapter.validate_python(body)
    except ValidationError as exc:
        return list(exc.errors())
    return None


@pytest.mark.parametrize("service", SERVICES)
def test_a_control_or_format_character_in_any_text_of_a_body_is_refused_naming_it(
    service: str,
) -> None:
    bodies = _bodies(service)
    assert bodies, service
    checked = 0
    for route, annotation, example in bodies:
        adapter: TypeAdapter[Any] = TypeAdapter(annotation)
        assert _errors(adapter, example) is None, (route, "its example is refused")
        for path, value in _strings(example):
            # A field that takes any text (not an enum, id, time or pattern) takes "x" + it.
            free = _errors(adapter, _with(example, path, "x" + value)) is None
            for name, char in HOSTILE.items():
                errors = _errors(adapter, _with(example, path, value[:1] + char + value[1:]))
                assert errors is not None, (route, path, name, "accepted")
                at_field = [e for e in errors if tuple(e["loc"]) == path]
                assert at_field, (route, path, name, errors)
                if free:
                    assert any(name in e["msg"] for e in at_field), (route, path, at_field)
                    checked += 1
    assert checked > 0, service


@pytest.mark.parametrize(
    ("model", "field", "keeps_line_breaks"),
    [
        (RejectionCreate, "reason", True),  # free text: a note, a reason, a description
        (ReceiptCreate, "note", True),
        (ReceiptCreate, "sku", False),  # one line: ids, SKUs, references, names
        (ReceiptCreate, "reference", False),
    ],
)
def test_free_text_keeps_line_breaks_and_tabs_one_line_text_does_not(
    model: Any, field: str, keeps_line_breaks: bool
) -> None:
    example = _example({}, model.model_json_schema())
    body = {**example, field: "第一行\n\t第二行"}
    if keeps_line_breaks:
        assert getattr(model.model_validate(body), field) == "第一行\n\t第二行"
    else:
        with pytest.raises(ValidationError, match="U\\+000A"):
            model.model_validate(body)
