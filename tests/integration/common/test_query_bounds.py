"""Every list endpoint of the four services (the kernel's included), really served: a hostile
query parameter (an offset beyond int64, a NUL, an unknown enum value, a huge text) is a 422
naming it, never a 500 from the driver and never an empty 200."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi import FastAPI

from lvyue.cli.embedded import EmbeddedBroker
from lvyue.common.query import MAX_OFFSET
from tests.conftest import Databases
from tests.support.apps import quiet_service_app, serve, service_migrations
from tests.support.inventory import OPS, SRE

BEYOND_INT64 = str(2**63)
LONG = "W" * 129
NUL = "WH\x00"


@dataclass(frozen=True)
class Endpoint:
    path: str
    texts: tuple[str, ...] = ()  # free-text filters
    enums: tuple[str, ...] = ()  # filters with a closed set of values (enums, ids, booleans)
    limit: bool = True
    offset: bool = True
    hostile: tuple[dict[str, str], ...] = ()  # the endpoint's own
    headers: tuple[tuple[str, str], ...] = tuple(OPS.items())  # a role it answers


ENDPOINTS: dict[str, list[Endpoint]] = {
    "order_review": [Endpoint("/abnormal-orders", ("platform", "shop_id"), ("reason",))],
    "inventory": [
        Endpoint("/skus", ("warehouse_id",), ("low_stock",)),
        Endpoint("/skus/slow-moving", ("warehouse_id",)),
        Endpoint("/stock/movements", ("warehouse_id", "sku"), ("order_id",)),
    ],
    "fulfilment": [
        Endpoint("/shipments", ("warehouse_id",), ("status", "order_id")),
        Endpoint("/logistics-exceptions", (), ("kind", "state")),
        Endpoint("/tracking-syncs", ("platform",), ("state",)),
    ],
    "aftersales": [
        Endpoint("/aftersales", (), ("state", "order_id")),
        Endpoint(
            "/reports/aftersales-ledger",
            (),
            ("format",),
            limit=False,
            offset=False,
            # weeks whose neighbours are beyond the calendar, and junk
            hostile=({"week": "0001-W01"}, {"week": "9999-W52"}, {"week": NUL}, {"week": LONG}),
        ),
    ],
}


# Every service serves the kernel's: its dead letters and its deadlines' breach forecast.
KERNEL_ENDPOINTS = [
    Endpoint("/dead-letters", ("consumer",), ("redriven",), headers=tuple(SRE.items())),
    Endpoint("/deadlines/forecast", ("sla", "queue"), ("will_breach",), offset=False),
]


def _hostile(endpoint: Endpoint) -> list[dict[str, str]]:
    cases = list(endpoint.hostile)
    if endpoint.limit:
        cases += [{"limit": "0"}, {"limit": BEYOND_INT64}, {"limit": "-1"}]
    if endpoint.offset:
        cases += [{"offset": BEYOND_INT64}, {"offset": "-1"}, {"offset": str(MAX_OFFSET + 1)}]
    for name in endpoint.texts:
        cases += [{name: NUL}, {name: LONG}, {name: ""}]
    cases += [{name: "bogus"} for name in endpoint.enums]
    return cases


@pytest.mark.parametrize("service", sorted(ENDPOINTS))
async def test_hostile_query_parameters_are_422_naming_the_parameter(
    service: str, databases: Databases, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    db = await databases.create(service_migrations(service))
    app = quiet_service_app(service, db, broker.bootstrap_servers, topic_prefix)
    endpoints = ENDPOINTS[service] + KERNEL_ENDPOINTS
    assert _paged_routes(app) <= {e.path for e in endpoints}  # none is left out of the table
    async with serve(app) as client:
        for endpoint in endpoints:
            path, headers = endpoint.path, dict(endpoint.headers)
            # The bounds themselves are fine, so the 422s below are about the values only.
            fine = dict.fromkeys(endpoint.texts, "W" * 128)
            fine |= {"limit": "1"} if endpoint.limit else {}
            fine |= {"offset": str(MAX_OFFSET)} if endpoint.offset else {}
            ok = await client.get(path, params=fine, headers=headers)
            assert ok.status_code == 200, (path, ok.text)
            if endpoint.limit and endpoint.offset:  # a list: one shape everywhere
                page = ok.json()
                assert page == {"items": [], "total": 0, "limit": 1, "offset": MAX_OFFSET}, (
                    path,
                    page,
                )
            for params in _hostile(endpoint):
                response = await client.get(path, params=params, headers=headers)
                assert response.status_code == 422, (path, params, response.text)
                [name] = params
                assert name in response.text, (path, params, response.text)


def _paged_routes(app: FastAPI) -> set[str]:
    """The GET routes of the app's API that take a `limit`: its lists."""
    return {
        path
        for path, operations in app.openapi()["paths"].items()
        if any(p["name"] == "limit" for p in operations.get("get", {}).get("parameters", []))
    }


# Text path parameters: inventory's SKU routes name a warehouse and a SKU in the path.
PATH_ROUTES = (("GET", None), ("PUT", {"name": "x"}))
HOSTILE_PATHS = (
    ("W" * 65, "S-1", "warehouse_id"),  # longer than a body may name a warehouse
    ("W-1", "S" * 129, "sku"),
    ("W-1", "ab" * 2000, "sku"),  # past a btree key: PostgreSQL refused it with a 500
    ("W-1", " S-1", "sku"),  # a SKU no body could name again (bodies strip spaces)
    ("W-1 ", "S-1", "warehouse_id"),
)


async def test_hostile_text_path_parameters_are_422_naming_the_parameter(
    databases: Databases, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    db = await databases.create(service_migrations("inventory"))
    async with serve(
        quiet_service_app("inventory", db, broker.bootstrap_servers, topic_prefix)
    ) as client:
        for warehouse, sku, named in HOSTILE_PATHS:
            for method, body in PATH_ROUTES:
                path = f"/skus/{warehouse}/{sku}"
                response = await client.request(method, path, json=body, headers=OPS)
                where = (method, warehouse[:20], sku[:20], response.text[:300])
                assert response.status_code == 422, where
                assert response.json()["errors"][0]["loc"] == ["path", named], where
        fine = await client.put("/skus/W-1/" + "S" * 128, json={"name": "x"}, headers=OPS)
        assert fine.status_code == 201, fine.text
