"""Every list endpoint of the four services, really served: a hostile query parameter (an
offset beyond int64, a NUL, an unknown enum value, a huge text) is a 422 naming it, never a 500
from the driver and never an empty 200."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI

from lvyue.aftersales.main import build_app as aftersales_app
from lvyue.aftersales.migrations import MIGRATIONS as AFTERSALES
from lvyue.cli.embedded import EmbeddedBroker
from lvyue.common.migrate import MigrationSet
from lvyue.common.query import MAX_OFFSET
from lvyue.fulfilment.main import build_app as fulfilment_app
from lvyue.fulfilment.migrations import MIGRATIONS as FULFILMENT
from lvyue.inventory.main import build_app as inventory_app
from lvyue.inventory.migrations import MIGRATIONS as INVENTORY
from lvyue.order_review.main import build_app as order_review_app
from lvyue.order_review.migrations import MIGRATIONS as ORDER_REVIEW
from lvyue.order_review.settings import OrderReviewSettings
from tests.conftest import Databases
from tests.support.aftersales import aftersales_settings
from tests.support.apps import serve
from tests.support.fulfilment import fulfilment_settings
from tests.support.inventory import API_TOKENS, OPS, inventory_settings

QUIET = {"consumers_enabled": False, "background_jobs_enabled": False}
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


MIGRATIONS: dict[str, MigrationSet] = {
    "order_review": ORDER_REVIEW,
    "inventory": INVENTORY,
    "fulfilment": FULFILMENT,
    "aftersales": AFTERSALES,
}


def _app(service: str, db: str, broker: EmbeddedBroker, prefix: str) -> FastAPI:
    bootstrap = broker.bootstrap_servers
    if service == "order_review":
        settings = OrderReviewSettings.model_validate(
            {
                "env": "test",
                "database_url": db,
                "kafka_bootstrap_servers": bootstrap,
                "kafka_idempotent_producer": False,
                "topic_prefix": prefix,
                "topic_partitions": 2,
                "deadline_scanner_enabled": False,
                "api_tokens": API_TOKENS,
                **QUIET,
            }
        )
        return order_review_app(settings)
    builders: dict[str, tuple[Callable[..., Any], Callable[..., FastAPI]]] = {
        "inventory": (inventory_settings, inventory_app),
        "fulfilment": (fulfilment_settings, fulfilment_app),
        "aftersales": (aftersales_settings, aftersales_app),
    }
    make_settings, build = builders[service]
    return build(make_settings(db, bootstrap, prefix, **QUIET))


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
    db = await databases.create(MIGRATIONS[service])
    async with serve(_app(service, db, broker, topic_prefix)) as client:
        for endpoint in ENDPOINTS[service]:
            path = endpoint.path
            # The bounds themselves are fine, so the 422s below are about the values only.
            fine = dict.fromkeys(endpoint.texts, "W" * 128)
            fine |= {"limit": "1"} if endpoint.limit else {}
            fine |= {"offset": str(MAX_OFFSET)} if endpoint.offset else {}
            ok = await client.get(path, params=fine, headers=OPS)
            assert ok.status_code == 200, (path, ok.text)
            if endpoint.limit and endpoint.offset:  # a list: one shape everywhere
                page = ok.json()
                assert page == {"items": [], "total": 0, "limit": 1, "offset": MAX_OFFSET}, (
                    path,
                    page,
                )
            for params in _hostile(endpoint):
                response = await client.get(path, params=params, headers=OPS)
                assert response.status_code == 422, (path, params, response.text)
                [name] = params
                assert name in response.text, (path, params, response.text)
