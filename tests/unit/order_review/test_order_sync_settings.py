"""The shops lvyue syncs orders with: each key names a platform lvyue speaks, the signed
platforms need their app's key and secret, and secrets never show in the settings' repr."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from lvyue.order_review.settings import OrderReviewSettings

SIGNED = {"base_url": "http://x", "access_token": "t", "app_key": "k", "app_secret": "s3cret"}


def settings(shops: dict[str, Any]) -> OrderReviewSettings:
    return OrderReviewSettings(env="test", order_pull_shops=shops)


@pytest.mark.parametrize(
    ("key", "shop", "says"),
    [
        ("kuaishou/shop-1", SIGNED, 'not "<platform>/<shop_id>" of a platform lvyue pulls from'),
        ("douyin", SIGNED, 'not "<platform>/<shop_id>"'),
        ("douyin/4463798", SIGNED | {"app_secret": ""}, "needs app_key and app_secret"),
        ("pinduoduo/client-1", SIGNED | {"app_key": ""}, "needs app_key and app_secret"),
        ("taobao/绿悦旗舰店", SIGNED | {"app_secret": ""}, "needs app_key and app_secret"),
        ("jd/10086123", SIGNED | {"app_key": ""}, "needs app_key and app_secret"),
    ],
)
def test_a_shop_lvyue_cannot_sync_is_refused_by_name(
    key: str, shop: dict[str, Any], says: str
) -> None:
    with pytest.raises(ValidationError, match=says):
        settings({key: shop})


def test_signed_shops_are_accepted_and_their_secrets_are_masked() -> None:
    shopify = {"base_url": "http://x", "access_token": "t"}
    found = settings(
        {"douyin/4463798": SIGNED, "pinduoduo/client-1": SIGNED, "shopify/a.myshopify.com": shopify}
    )
    assert "s3cret" not in repr(found)
    assert found.app_secret("douyin", "k") == "s3cret"  # a push of the shop's app
    assert found.app_secret("douyin", "someone-else") is None  # no webhook secret either
