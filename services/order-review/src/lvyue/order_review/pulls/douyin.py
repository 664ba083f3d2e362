"""抖店 (Douyin shop) open API: order.searchList by update time, page by page, and
order.orderDetail for one order.

Calls are signed as platform_signing.douyin describes (POST {base_url}/order/searchList, the
common parameters in the query, the business parameters as the sorted JSON body; lvyue signs
with hmac-sha256). Business parameters, from the API pages (op.jinritemai.com order.searchList,
order.orderDetail) and the doudian SDKs' request classes:
    order.searchList   update_time_start, update_time_end (unix seconds), page (from 0),
                       size (at most 100), order_by "update_time", order_asc true
                       -> data {shop_order_list: [...], page, size, total}
    order.orderDetail  shop_order_id -> data {shop_order_detail: {...}}
Answers are {"code": 10000, "msg": "success", "data": ...}; 20000 (系统错误) is retried like a
5xx, any other code stops the pull. The searched order has orderDetail's shape, which the
intake adapter (platforms/douyin.py) maps. An order is closed when its order_status is 4
(已取消) or its main_status is 21 (发货前退款完结, the whole order refunded before shipment),
as the doudian SDKs describe ShopOrderDetail's fields (main_status 22 and 39 are refunds
completed after shipment and receipt, aftersales' business); a pull that finds one whose
push was lost cancels it as the push would have.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime
from functools import partial
from typing import Any

import httpx

from lvyue.common.platform_signing import (
    DOUYIN_API_VERSION,
    douyin_api_sign,
    douyin_param_json,
    unix_seconds,
)
from lvyue.order_review.pulls.calls import (
    PullError,
    Retryable,
    json_answer,
    said,
    with_retries,
)
from lvyue.order_review.pulls.source import Page, RawOrder
from lvyue.order_review.settings import ShopPull

MAX_SIZE = 100
MAX_PAGES = 1000  # a bound on one pull's loop: 100,000 orders updated in one window
SUCCESS = 10000
SYSTEM_ERROR = 20000
CANCELLED = 4  # order_status 已取消
REFUNDED_BEFORE_SHIPMENT = 21  # main_status 发货前退款完结
SIGN_METHOD = "hmac-sha256"
_DETAIL_ROOT = "shop_order_detail"


class DouyinOrders:
    platform = "douyin"

    async def pages(
        self,
        client: httpx.AsyncClient,
        shop: ShopPull,
        *,
        since: datetime,
        until: datetime,
        limit: int,
    ) -> AsyncIterator[Page]:
        size = min(limit, MAX_SIZE)
        page = 0
        while True:
            business = {
                "update_time_start": int(since.timestamp()),
                "update_time_end": int(until.timestamp()),
                "page": page,
                "size": size,
                "order_by": "update_time",
                "order_asc": True,
            }
            data = await with_retries(partial(call, client, shop, "order.searchList", business))
            orders = data.get("shop_order_list")
            if not isinstance(orders, list):
                raise PullError("抖店 answered without a shop_order_list")
            total = _count(data.get("total"))
            last = len(orders) < size or 0 < total <= (page + 1) * size
            yield Page([o for o in orders if isinstance(o, Mapping)], last=last)
            if last:
                return
            page += 1
            if page >= MAX_PAGES:
                raise PullError(f"more than {MAX_PAGES} pages updated in one window")

    async def detail(
        self, client: httpx.AsyncClient, shop: ShopPull, platform_order_id: str
    ) -> RawOrder | None:
        business = {"shop_order_id": platform_order_id}
        data = await with_retries(partial(call, client, shop, "order.orderDetail", business))
        found = data.get(_DETAIL_ROOT)
        return found if isinstance(found, Mapping) else None

    def order_id(self, order: RawOrder) -> str:
        return str(order.get("order_id"))

    def cancellation(self, order: RawOrder) -> str | None:
        refunded = order.get("main_status") == REFUNDED_BEFORE_SHIPMENT
        if order.get("order_status") != CANCELLED and not refunded:
            return None
        if order.get("cancel_reason"):
            return str(order["cancel_reason"])
        return "the whole order was refunded before shipment (发货前退款完结)" if refunded else ""

    def adapter_input(
        self, shop_id: str, order: RawOrder
    ) -> tuple[Mapping[str, str], Mapping[str, Any]]:
        return {}, {_DETAIL_ROOT: order}


async def call(
    client: httpx.AsyncClient, shop: ShopPull, method: str, business: Mapping[str, Any]
) -> Mapping[str, Any]:
    """One signed call; its `data` on success."""
    body = douyin_param_json(business)
    timestamp = unix_seconds(datetime.now().astimezone())
    secret = shop.app_secret.get_secret_value()
    query = {
        "app_key": shop.app_key,
        "method": method,
        "access_token": shop.access_token.get_secret_value(),
        "timestamp": timestamp,
        "v": DOUYIN_API_VERSION,
        "sign_method": SIGN_METHOD,
        "sign": douyin_api_sign(shop.app_key, secret, method, body, timestamp, SIGN_METHOD),
    }
    url = f"{shop.base_url.rstrip('/')}/{method.replace('.', '/')}"
    request = client.build_request(
        "POST", url, params=query, content=body.encode(),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    answer = await json_answer(client, request, "抖店")
    code = answer.get("code")
    if code == SUCCESS:
        data = answer.get("data")
        return data if isinstance(data, Mapping) else {}
    text = f"抖店 {method}: {code} {answer.get('msg', '')} {answer.get('sub_msg', '')}".strip()
    if code == SYSTEM_ERROR:
        raise Retryable(said(text))
    raise PullError(said(text))


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
