"""The dev sandbox platform answers every tracking adapter with its platform's success shape,
as `lvyue run` configures fulfilment for it; a wrong key is refused."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from lvyue.cli.runtime import SANDBOX_PLATFORMS
from lvyue.cli.sandbox import SANDBOX_CARRIER_CODES, app, platform_apis
from lvyue.cli.sidecars import prometheus_config
from lvyue.fulfilment.settings import PlatformApi
from lvyue.fulfilment.tracking.platforms import Adapters, OutcomeKind, TrackingPush

BASE = "http://sandbox"


def _push(platform: str, carrier: str) -> TrackingPush:
    return TrackingPush(
        shipment_id=uuid.uuid4(),
        order_id=uuid.uuid4(),
        platform=platform,
        shop_id="shop-1",
        platform_order_id="5001234567890",
        carrier_code=carrier,
        tracking_number="SF1234567890123",
        dispatched_at=datetime.now(UTC),
    )


@pytest.mark.parametrize("platform", SANDBOX_PLATFORMS)
@pytest.mark.parametrize("carrier", ["SF", "YTO", "ZTO"])
async def test_every_platform_syncs_against_the_sandbox(platform: str, carrier: str) -> None:
    apis = {k: PlatformApi(**v) for k, v in json.loads(platform_apis(BASE, [platform])).items()}
    adapter = Adapters(SANDBOX_CARRIER_CODES).for_platform(platform)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app())) as client:
        outcome = await adapter.push(
            client, _push(platform, carrier), apis[platform], now=datetime.now(UTC)
        )
    assert outcome.kind is OutcomeKind.SYNCED, outcome


async def test_a_wrong_key_is_refused() -> None:
    api = PlatformApi(base_url=f"{BASE}/taobao", app_key="other", app_secret="s", access_token="t")
    adapter = Adapters().for_platform("taobao")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app())) as client:
        outcome = await adapter.push(client, _push("taobao", "SF"), api, now=datetime.now(UTC))
    assert outcome.kind is not OutcomeKind.SYNCED


def test_prometheus_config_names_a_job_per_service() -> None:
    config = json.loads(prometheus_config({"fulfilment": ["127.0.0.1:8103"]}))
    assert config["scrape_configs"] == [
        {"job_name": "fulfilment", "static_configs": [{"targets": ["127.0.0.1:8103"]}]}
    ]
    assert config["rule_files"][0].endswith("deploy/prometheus/rules/*.rules.yml")
