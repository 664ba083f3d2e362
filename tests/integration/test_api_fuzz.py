"""schemathesis against each service's own OpenAPI, in-process on the real embedded PostgreSQL and
broker: every operation, with a token of a role it admits, never answers 5xx and always answers
what its schema declares (status body schemas, the Problem shape for errors).

Bounded: a few generated examples per operation (plus the schema's explicit examples), and a
time budget per service; the four together take well under 90 s here.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from lvyue.cli.embedded import EmbeddedBroker
from tests.conftest import Databases
from tests.support.apps import SERVICES, quiet_service_app, service_migrations
from tests.support.inventory import API_TOKENS

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
EXAMPLES = 6  # generated per operation, besides the explicit examples of the schema
BUDGET_S = 40.0  # per service, checked after the run as well as by the timeout below
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same cases every run: a failure here is reproducible
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
async def fuzz_databases(databases: Databases) -> dict[str, str]:
    return {s: await databases.create(service_migrations(s)) for s in SERVICES}


def _app(service: str, database_url: str, bootstrap: str) -> FastAPI:
    return quiet_service_app(service, database_url, bootstrap, f"fz{uuid.uuid4().hex[:6]}.")


def _declared(service: str) -> Any:
    """The service's schema, as its app builds it (nothing is started to build it)."""
    app = _app(service, "postgresql+asyncpg://schema@127.0.0.1:1/schema", "127.0.0.1:1")
    return schemathesis.openapi.from_dict(app.openapi())


@pytest.fixture(scope="module")
def apps(fuzz_databases: dict[str, str], broker: EmbeddedBroker) -> Iterator[dict[str, FastAPI]]:
    """Each service's app on its own database; schemathesis starts it (real lifespan) in its own
    event loop thread at the first call, and it is stopped here."""
    yield {s: _app(s, url, broker.bootstrap_servers) for s, url in fuzz_databases.items()}
    asgi.shutdown_lifespans()


def _token_for(case: Any) -> dict[str, str]:
    """A bearer token of the first role the operation admits (ops where any role will do)."""
    roles = case.operation.definition.raw.get("x-roles")
    if roles is None:  # public: a probe or a webhook authenticated by its signature
        return {}
    role = roles[0] if roles else "ops"
    return {"Authorization": f"Bearer {API_TOKENS[role][0]}"}


_started: dict[str, float] = {}


def _check(service: str, apps: dict[str, FastAPI], case: Any) -> None:
    started = _started.setdefault(service, time.monotonic())
    case.call_and_validate(headers=_token_for(case), checks=CHECKS, app=apps[service])
    assert time.monotonic() - started < BUDGET_S, f"{service}: fuzzing past {BUDGET_S} s"


order_review = _declared("order_review")
inventory = _declared("inventory")
fulfilment = _declared("fulfilment")
aftersales = _declared("aftersales")


@order_review.parametrize()  # type: ignore[untyped-decorator]
@FUZZ
def test_order_review_api(case: Any, apps: dict[str, FastAPI]) -> None:
    _check("order_review", apps, case)


@inventory.parametrize()  # type: ignore[untyped-decorator]
@FUZZ
def test_inventory_api(case: Any, apps: dict[str, FastAPI]) -> None:
    _check("inventory", apps, case)


@fulfilment.parametrize()  # type: ignore[untyped-decorator]
@FUZZ
def test_fulfilment_api(case: Any, apps: dict[str, FastAPI]) -> None:
    _check("fulfilment", apps, case)


@aftersales.parametrize()  # type: ignore[untyped-decorator]
@FUZZ
def test_aftersales_api(case: Any, apps: dict[str, FastAPI]) -> None:
    _check("aftersales", apps, case)
