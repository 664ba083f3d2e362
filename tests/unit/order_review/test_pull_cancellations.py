"""What a pulled 抖店 order says about its end: cancelled (order_status 4, with the buyer's
reason), refunded whole before shipment (main_status 21), or neither."""

from __future__ import annotations

from typing import Any, cast

import pytest

from lvyue.order_review.pulls.douyin import DouyinOrders
from lvyue.order_review.pulls.orders import REASON_CHARS, ShopSource, cancellation

REFUND = "the whole order was refunded before shipment (发货前退款完结)"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"order_status": 2, "main_status": 2}, None),  # 备货中
        ({"order_status": 3, "main_status": 3}, None),  # 已发货
        ({"order_status": 4, "main_status": 4, "cancel_reason": "买家取消"}, "买家取消"),
        ({"order_status": 4, "main_status": 4}, ""),  # closed, no reason given
        ({"order_status": 4, "main_status": 21}, REFUND),
        ({"order_status": 2, "main_status": 21}, REFUND),  # main_status alone says so
        ({"order_status": 4, "main_status": 21, "cancel_reason": "不想要了"}, "不想要了"),
        ({"order_status": 3, "main_status": 22}, None),  # refunded after shipment: aftersales'
        ({"order_status": 5, "main_status": 39}, None),  # refunded after receipt: aftersales'
        ({}, None),
    ],
)
def test_a_pulled_order_is_cancelled_when_closed_or_refunded_before_shipment(
    fields: dict[str, Any], reason: str | None
) -> None:
    assert DouyinOrders().cancellation({"order_id": "6919283746501234567", **fields}) == reason


def test_a_platform_s_cancel_reason_is_kept_visible_and_cut_as_an_operator_s() -> None:
    # The cancel must land, so the platform's words are cleaned and cut, never refused.
    target = ShopSource("douyin", "shop-1", shop=cast(Any, None), source=DouyinOrders())
    said = "买家\u202e取消\x1b[2J\n原因：" + "长" * 1000
    reason = cancellation(target, {"order_id": "1", "order_status": 4, "cancel_reason": said})
    assert reason == ("买家取消[2J\n原因：" + "长" * 1000)[:REASON_CHARS]
    assert len(reason) == REASON_CHARS == 500
