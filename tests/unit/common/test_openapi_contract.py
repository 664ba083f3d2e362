"""Each service's OpenAPI is enough to integrate: every operation says who may call it (a bearer
role, or explicitly public), shows an example, declares every error status with the Problem
body, and the webhooks declare their signature headers per platform. Every example in a schema
is valid against that schema."""

from __future__ import annotations

from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from lvyue.common.problems import PROBLEM_MEDIA_TYPE
from lvyue.order_review.platforms import ADAPTERS
from tests.support.apps import SERVICES, service_app
from tests.unit.order_review.test_adapter_properties import PARAMS

PROBLEM = {"$ref": "#/components/schemas/Problem"}
NO_DATABASE = {"/livez", "/metrics", "/readyz"}


def _schema(service: str) -> dict[str, Any]:
    # Building the schema starts nothing: no database or broker is reached.
    app = service_app(service, "postgresql+asyncpg://u@127.0.0.1:1/d", "127.0.0.1:1", "t.")
    return app.openapi()


@pytest.fixture(scope="module", params=SERVICES)
def schema(request: pytest.FixtureRequest) -> dict[str, Any]:
    return _schema(request.param)


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in {"get", "put", "post", "delete", "patch"}
    ]


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _has_example(schema: dict[str, Any], content: dict[str, Any]) -> bool:
    for media in content.values():
        if media.get("example") is not None or media.get("examples"):
            return True
        body = _resolve(schema, media.get("schema", {}))
        # A list body shows its items' example; an optional body its model's.
        candidates = [body, body.get("items", {}), *body.get("anyOf", [])]
        if any(_resolve(schema, c).get("examples") for c in candidates):
            return True
    return False


def test_bearer_is_the_security_scheme(schema: dict[str, Any]) -> None:
    schemes = schema["components"]["securitySchemes"]
    assert schemes == {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": schemes["bearer"]["description"],
        }
    }


def test_every_operation_names_its_roles_or_is_explicitly_public(schema: dict[str, Any]) -> None:
    for path, method, op in _operations(schema):
        where = f"{method.upper()} {path}"
        if op.get("x-public"):
            assert op["security"] == [], where
            assert op["x-public-reason"], where
            assert "**Public:**" in op["description"], where
        else:
            [requirement] = op["security"]
            assert list(requirement) == ["bearer"], where
            assert op["x-roles"] == requirement["bearer"], where
            assert "**Roles:**" in op["description"], where


def test_public_operations_are_the_probes_and_the_webhooks(schema: dict[str, Any]) -> None:
    public = {path for path, _, op in _operations(schema) if op.get("x-public")}
    assert {"/livez", "/readyz", "/metrics"} <= public
    signed = ("/webhooks/", "/notifications/")  # authenticated by the platform's signature
    assert all(p in NO_DATABASE or p.startswith(signed) for p in public), public


def test_every_operation_has_an_example(schema: dict[str, Any]) -> None:
    missing = []
    for path, method, op in _operations(schema):
        contents = [op.get("requestBody", {}).get("content", {})]
        contents += [r.get("content", {}) for code, r in op["responses"].items() if code < "400"]
        if not any(_has_example(schema, c) for c in contents):
            missing.append(f"{method.upper()} {path}")
    assert missing == []


def test_every_error_status_answers_a_problem(schema: dict[str, Any]) -> None:
    for path, method, op in _operations(schema):
        where = f"{method.upper()} {path}"
        responses = op["responses"]
        roles = op.get("x-roles")
        expected = set()
        if roles is not None:
            expected |= {"401", "403"} if roles else {"401"}
        if op.get("parameters") or op.get("requestBody"):
            expected.add("422")
        if op.get("requestBody"):
            # every body bounded (LVYUE_BODY_TIMEOUT_S, _MAX_BODY_BYTES) and read as UTF-8 JSON
            expected |= {"408", "413", "415"}
        if any(p.get("in") == "path" for p in op.get("parameters", ())):
            expected.add("400")  # a control character in a path parameter
        if path not in NO_DATABASE:
            expected.add("503")
        assert expected <= set(responses), (where, sorted(responses))
        for code, response in responses.items():
            if int(code) < 400 or (path, code) == ("/readyz", "503"):
                continue
            assert response["content"] == {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM}}, (where, code)
            assert response["description"], (where, code)
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def test_webhooks_declare_their_signatures_and_bodies(schema: dict[str, Any]) -> None:
    webhooks = [(p, op) for p, _, op in _operations(schema) if p.startswith("/webhooks/")]
    for path, op in webhooks:
        signatures = op["x-signature"]
        assert signatures, path
        declared = {(p["in"], p["name"].lower()) for p in op["parameters"]}
        for platform, parameters in signatures.items():
            assert any(p["required"] for p in parameters), (path, platform)
            for p in parameters:
                assert (p["in"], p["name"].lower()) in declared, (path, platform, p)
        examples = op["requestBody"]["content"]["application/json"]["examples"]
        assert set(examples) == set(signatures), path
        for status in ("401", "413", "415", "422"):
            assert status in op["responses"], (path, status)


@pytest.mark.parametrize("service", SERVICES)
def test_every_schema_example_is_valid_against_its_schema(service: str) -> None:
    schema = _schema(service)
    components = schema["components"]["schemas"]
    registry_root = {"components": {"schemas": components}}
    for name, component in components.items():
        for example in component.get("examples", []):
            validator = jsonschema.Draft202012Validator(
                {**component, "components": registry_root["components"]}
            )
            errors = [e.message for e in validator.iter_errors(example)]
            assert errors == [], (name, example, errors)


def test_the_webhook_examples_are_the_platform_pushes_the_adapters_accept() -> None:
    webhook = _schema("order_review")["paths"]["/webhooks/{platform}/orders"]["post"]
    examples = webhook["requestBody"]["content"]["application/json"]["examples"]
    assert set(examples) == {"lvyue", "shopify", "taobao", "jd", "pinduoduo", "douyin"}
    for platform, example in examples.items():
        adapter = ADAPTERS.get(platform)
        assert adapter is not None
        order = adapter.to_canonical(PARAMS, example["value"])
        assert order.lines, platform
