"""What every tracking adapter shares, the adapter registry, and the retry / no-scan arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from lvyue.common import platform_answers
from lvyue.fulfilment.logistics.rules import NoScanLimits
from lvyue.fulfilment.settings import FulfilmentSettings, PlatformApi
from lvyue.fulfilment.tracking.platforms import Adapters, OutcomeKind, api_for
from lvyue.fulfilment.tracking.platforms.canonical import CanonicalAdapter
from lvyue.fulfilment.tracking.platforms.douyin import DouyinAdapter
from lvyue.fulfilment.tracking.platforms.jd import JdAdapter
from lvyue.fulfilment.tracking.platforms.pinduoduo import PinduoduoAdapter
from lvyue.fulfilment.tracking.platforms.shopify import ShopifyAdapter
from lvyue.fulfilment.tracking.platforms.taobao import TaobaoAdapter
from lvyue.fulfilment.tracking.policy import RetryPolicy
from tests.unit.fulfilment.test_tracking_adapters import API, NOW, PUSH, SHOPIFY, no_call


@pytest.mark.parametrize(
    "adapter", [TaobaoAdapter(), JdAdapter(), PinduoduoAdapter({"SF": "44"}), DouyinAdapter(),
                ShopifyAdapter(), CanonicalAdapter()],
)  # fmt: skip
async def test_timeouts_and_refused_connections_are_retries(adapter: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("slow", request=request)

    api = SHOPIFY if adapter.name == "shopify" else API
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        outcome = await adapter.push(client, PUSH, api, now=NOW)
    assert outcome.kind is OutcomeKind.RETRY


async def _push_answered(adapter: Any, body: bytes) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    api = SHOPIFY if adapter.name == "shopify" else API
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        return await adapter.push(client, PUSH, api, now=NOW)


@pytest.mark.parametrize(
    "adapter", [TaobaoAdapter(), JdAdapter(), PinduoduoAdapter({"SF": "44"}), DouyinAdapter(),
                ShopifyAdapter(), CanonicalAdapter()],
)  # fmt: skip
async def test_an_answer_beyond_its_size_is_a_retry_never_a_success(
    adapter: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(platform_answers, "MAX_ANSWER_BYTES", 64 * 1024)
    outcome = await _push_answered(adapter, b'{"ok": "' + b"x" * (64 * 1024) + b'"}')
    assert outcome.kind is OutcomeKind.RETRY
    assert "more than the 65536 bytes allowed" in (outcome.error or "")


@pytest.mark.parametrize(
    "adapter", [TaobaoAdapter(), JdAdapter(), PinduoduoAdapter({"SF": "44"}), DouyinAdapter(),
                ShopifyAdapter()],
)  # fmt: skip
@pytest.mark.parametrize(
    "body", [b"[" * 40 + b"]" * 40, b'{"code": 0, "code": 1}', b'{"code": 1e999}'],
    ids=["too deep", "a key twice", "a number out of range"],
)  # fmt: skip
async def test_an_answer_s_json_beyond_the_limits_is_a_retry_never_a_success(
    adapter: Any, body: bytes
) -> None:
    """The canonical protocol reads no answer body (its status says it all): not here."""
    outcome = await _push_answered(adapter, body)
    assert outcome.kind is OutcomeKind.RETRY


async def test_missing_credentials_are_permanent_without_a_call() -> None:
    bare = PlatformApi(base_url="https://gw.example.com/router")
    async with httpx.AsyncClient(transport=httpx.MockTransport(no_call)) as client:
        outcome = await TaobaoAdapter().push(client, PUSH, bare, now=NOW)
    assert outcome.kind is OutcomeKind.PERMANENT
    assert "app_key is not configured" in (outcome.error or "")


def test_each_platform_has_its_adapter_and_others_get_the_canonical_one() -> None:
    adapters = Adapters()
    for name in ("shopify", "taobao", "tmall", "jd", "pinduoduo", "douyin"):
        assert adapters.for_platform(name).name == name
    assert isinstance(adapters.for_platform("my-erp"), CanonicalAdapter)


def test_a_shops_own_api_entry_wins_over_the_platforms() -> None:
    shop = PlatformApi(base_url="https://shop.example.com", access_token="shop-token")
    apis = {"taobao": API, "taobao/shop-2": shop}
    assert api_for(apis, "taobao", "shop-2") is shop
    assert api_for(apis, "taobao", "shop-1") is API
    assert api_for(apis, "jd", "shop-1") is None


# --- retry policy ---------------------------------------------------------------------------

POLICY = RetryPolicy(initial_s=2.0, max_s=300.0, give_up_after_s=6 * 3600.0)


@pytest.mark.parametrize(
    ("attempts", "low", "high"),
    [(1, 1.0, 2.0), (2, 2.0, 4.0), (3, 4.0, 8.0), (8, 128.0, 256.0), (9, 150.0, 300.0),
     (50, 150.0, 300.0), (10_000, 150.0, 300.0)],
)  # fmt: skip
def test_backoff_doubles_with_equal_jitter_up_to_the_cap(
    attempts: int, low: float, high: float
) -> None:
    assert POLICY.delay_s(attempts, 0.0) == low
    assert low <= POLICY.delay_s(attempts, 0.5) <= high
    assert POLICY.delay_s(attempts, 0.999999) == pytest.approx(high, rel=1e-5)


def test_a_platforms_retry_after_is_a_floor_but_never_past_the_cap() -> None:
    assert POLICY.delay_s(1, 0.0, retry_after_s=30.0) == 30.0
    assert POLICY.delay_s(1, 0.0, retry_after_s=3600.0) == 300.0
    assert POLICY.delay_s(8, 0.0, retry_after_s=1.0) == 128.0


def test_giving_up_counts_from_the_windows_start() -> None:
    start = datetime(2026, 11, 20, tzinfo=UTC)
    assert not POLICY.gives_up(None, start)
    assert not POLICY.gives_up(start, start + timedelta(hours=5, minutes=59))
    assert POLICY.gives_up(start, start + timedelta(hours=6))


def test_no_scan_limits_come_from_settings_and_must_grow() -> None:
    limits = NoScanLimits.from_settings(FulfilmentSettings())
    assert (limits.delayed, limits.lost) == (timedelta(hours=24), timedelta(hours=72))
    with pytest.raises(ValueError, match="longer"):
        NoScanLimits.from_settings(
            FulfilmentSettings(parcel_no_scan_delayed_h=48, parcel_no_scan_lost_h=24)
        )
