"""LVYUE_API_DOCS: the API schema and its viewers are served only where wanted; probes always."""

from __future__ import annotations

import re
from typing import Any

import pytest

from lvyue.cli.embedded import EmbeddedBroker
from lvyue.common.settings import Environment
from lvyue.inventory.main import build_app
from tests.support.apps import serve
from tests.support.inventory import inventory_settings

DOCS = ("/docs", "/redoc", "/openapi.json")
PROBES = ("/metrics", "/livez", "/readyz")


@pytest.mark.parametrize(
    ("overrides", "served"),
    [
        ({"api_docs": False}, False),
        ({"env": Environment.PRODUCTION}, False),  # the default in production
        ({"env": Environment.PRODUCTION, "api_docs": True}, True),
        ({}, True),  # dev and test: on by default
    ],
    ids=["switched-off", "production-default", "production-switched-on", "test-default"],
)
async def test_docs_follow_the_setting_and_probes_stay_open(
    inventory_db: str,
    broker: EmbeddedBroker,
    topic_prefix: str,
    overrides: dict[str, Any],
    served: bool,
) -> None:
    settings = inventory_settings(
        inventory_db, broker.bootstrap_servers, topic_prefix, consumers_enabled=False, **overrides
    )
    async with serve(build_app(settings)) as client:
        for path in DOCS:
            response = await client.get(path)
            assert response.status_code == (200 if served else 404), path
        for path in PROBES:
            response = await client.get(path)
            assert response.status_code == 200, (path, response.text)


async def test_docs_and_redoc_load_only_local_assets_which_are_served(
    inventory_db: str, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    settings = inventory_settings(
        inventory_db, broker.bootstrap_servers, topic_prefix, consumers_enabled=False
    )
    async with serve(build_app(settings)) as client:
        for page in ("/docs", "/redoc"):
            html = (await client.get(page)).text
            urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
            urls += re.findall(r"""url:\s*['"]([^'"]+)['"]""", html)
            assert urls, page
            assert "//" not in html.replace("://testserver", ""), (page, "a remote URL")
            for url in urls:
                assert url.startswith("/"), (page, url)
                asset = await client.get(url)
                assert asset.status_code == 200, (page, url)
                assert len(asset.content) > 1000, (page, url)
        bundle = await client.get("/docs-assets/swagger-ui-bundle.js")
        assert "javascript" in bundle.headers["content-type"]
        redoc = await client.get("/docs-assets/redoc.standalone.js")
        assert "javascript" in redoc.headers["content-type"]
