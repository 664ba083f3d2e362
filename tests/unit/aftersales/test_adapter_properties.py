"""Property: whatever JSON a platform pushes (within the decoder's limits), its after-sale
adapter answers with a request or with PayloadError, never anything else (a 500)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from lvyue.aftersales.platforms import ADAPTERS, PayloadError
from tests.support.json_strategies import JSON, mutated
from tests.support.webhooks import DATA

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _sample(platform: str) -> bytes:
    return (DATA / "aftersales" / f"{platform}.json").read_bytes()


def _map(platform: str, payload: Any) -> None:
    with contextlib.suppress(PayloadError):
        ADAPTERS[platform].to_aftersale(payload)


@pytest.mark.parametrize("platform", sorted(ADAPTERS))
def test_arbitrary_json_raises_only_payload_errors(platform: str) -> None:
    @FAST
    @given(payload=JSON)
    def check(payload: Any) -> None:
        _map(platform, payload)

    check()


@pytest.mark.parametrize("platform", sorted(ADAPTERS))
def test_a_sample_with_arbitrary_values_raises_only_payload_errors(platform: str) -> None:
    assert json.loads(_sample(platform))  # the sample itself is a valid push

    @FAST
    @given(payload=mutated(_sample(platform)))
    def check(payload: Any) -> None:
        _map(platform, payload)

    check()
