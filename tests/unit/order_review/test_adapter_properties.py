"""Property: whatever JSON a platform sends (within the decoder's limits), its order adapter
answers with an order or with its own errors (PayloadError, pydantic's ValidationError),
never anything else: anything else would be a 500 and a platform retrying for days."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from pydantic import ValidationError

from lvyue.order_review.platforms import ADAPTERS, PayloadError
from tests.support.json_strategies import JSON, mutated
from tests.support.webhooks import DATA, order_sample, shopify_sample

SAMPLES: dict[str, bytes] = {
    "lvyue": (DATA / "lvyue_order.json").read_bytes(),
    "shopify": shopify_sample(),
    **{p: order_sample(p) for p in ("taobao", "jd", "pinduoduo", "douyin")},
}
# Parameters and headers adapters read besides the body (shop domains, app keys).
PARAMS = {
    "x-shopify-shop-domain": "lvyue-test.myshopify.com",
    "x-shopify-topic": "orders/create",
    "app_key": "34567890",
    "client_id": "3f8e0d1c2b3a4f5e6d7c8b9a0f1e2d3c",
    "app-id": "7123456789012345678",
}
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _map(platform: str, payload: Any) -> None:
    adapter = ADAPTERS[platform]
    try:
        adapter.to_canonical(PARAMS, payload)
        adapter.delivery_id(PARAMS, payload)
    except (PayloadError, ValidationError):
        pass


@pytest.mark.parametrize("platform", sorted(SAMPLES))
def test_arbitrary_json_raises_only_the_adapters_errors(platform: str) -> None:
    @FAST
    @given(payload=JSON)
    def check(payload: Any) -> None:
        _map(platform, payload)

    check()


@pytest.mark.parametrize("platform", sorted(SAMPLES))
def test_a_sample_with_arbitrary_values_raises_only_the_adapters_errors(platform: str) -> None:
    @FAST
    @given(payload=mutated(SAMPLES[platform]))
    def check(payload: Any) -> None:
        _map(platform, payload)

    check()
