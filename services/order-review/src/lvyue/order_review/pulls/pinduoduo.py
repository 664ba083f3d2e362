"""Pinduoduo's open API: orders updated in a window (pdd.order.number.list.increment.get), in
slices of at most 30 minutes as the API requires, page by page; one order
(pdd.order.information.get).

A gateway call is a form POST of the signed common parameters and the business ones
(platform_signing.pdd_call_params). Business parameters and answers, from the API pages
(open.pinduoduo.com) and the PDD SDKs' request classes:
    pdd.order.number.list.increment.get  is_lucky_flag 0, order_status 5 and refund_status 5
        (every state), start_updated_at and end_updated_at (unix seconds, at most 30 minutes
        apart), page (from 1), page_size (at most 100), use_has_next true
        -> {"order_sn_increment_get_response": {"has_next", "total_count", "order_sn_list"}}
    pdd.order.information.get  order_sn -> {"order_info_get_response": {"order_info": {...}}}
Errors are {"error_response": {"error_code", "error_msg", "sub_msg"}}; 50000-59999 (the
platform's side) and 70031 (called too often) are retried. refund_status 4 (退款成功) means
the buyer's money went back: before shipment the order is not to be shipped, so lvyue treats
it as cancelled. The listed orders have order_info's shape, which platforms/pinduoduo.py maps;
that adapter takes the shop as the app's client_id (one app per mall).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import httpx

from lvyue.common.platform_signing import pdd_call_params
from lvyue.order_review.pulls.calls import (
    PullError,
    Retryable,
    answer_part,
    json_answer,
    said,
    sliced_pages,
    with_retries,
)
from lvyue.order_review.pulls.source import Page, RawOrder
from lvyue.order_review.settings import ShopPull

MAX_PAGE_SIZE = 100
SLICE = timedelta(minutes=30)  # the increment API's longest window
RATE_LIMITED = 70031
REFUNDED = 4  # refund_status 退款成功
INCREMENT = "pdd.order.number.list.increment.get"
DETAIL = "pdd.order.information.get"


class PinduoduoOrders:
    platform = "pinduoduo"

    def pages(
        self,
        client: httpx.AsyncClient,
        shop: ShopPull,
        *,
        since: datetime,
        until: datetime,
        limit: int,
    ) -> AsyncIterator[Page]:
        size = str(min(limit, MAX_PAGE_SIZE))

        async def page(start: datetime, end: datetime, number: int) -> tuple[list[RawOrder], bool]:
            business = {
                "is_lucky_flag": "0", "order_status": "5", "refund_status": "5",
                "start_updated_at": str(int(start.timestamp())),
                "end_updated_at": str(int(end.timestamp())),
                "page": str(number), "page_size": size, "use_has_next": "true",
            }  # fmt: skip
            answer = await with_retries(partial(call, client, shop, INCREMENT, business))
            found = answer_part(answer, "order_sn_increment_get_response", "拼多多")
            orders = found.get("order_sn_list")
            if not isinstance(orders, list):
                raise PullError("拼多多 answered without an order_sn_list")
            return [o for o in orders if isinstance(o, Mapping)], found.get("has_next") is True

        return sliced_pages(since, until, SLICE, page)

    async def detail(
        self, client: httpx.AsyncClient, shop: ShopPull, platform_order_id: str
    ) -> RawOrder | None:
        business = {"order_sn": platform_order_id}
        answer = await with_retries(partial(call, client, shop, DETAIL, business))
        found = answer_part(answer, "order_info_get_response", "拼多多").get("order_info")
        return found if isinstance(found, Mapping) else None

    def order_id(self, order: RawOrder) -> str:
        return str(order.get("order_sn"))

    def cancellation(self, order: RawOrder) -> str | None:
        if order.get("refund_status") != REFUNDED:
            return None
        return "the buyer was refunded (退款成功)"

    def adapter_input(
        self, shop_id: str, order: RawOrder
    ) -> tuple[Mapping[str, str], Mapping[str, Any]]:
        return {"client_id": shop_id}, {"order_info": order}


async def call(
    client: httpx.AsyncClient, shop: ShopPull, method: str, business: Mapping[str, str]
) -> Mapping[str, Any]:
    """One signed gateway call; its answer, or the platform's error raised."""
    params = pdd_call_params(
        method, business, client_id=shop.app_key,
        client_secret=shop.app_secret.get_secret_value(),
        access_token=shop.access_token.get_secret_value(), now=datetime.now().astimezone(),
    )  # fmt: skip
    request = client.build_request("POST", shop.base_url, data=params)
    answer = await json_answer(client, request, "拼多多")
    error = answer.get("error_response")
    if isinstance(error, Mapping):
        code = error.get("error_code")
        text = f"拼多多 {method}: {code} {error.get('error_msg', '')} {error.get('sub_msg', '')}"
        if isinstance(code, int) and (50000 <= code < 60000 or code == RATE_LIMITED):
            raise Retryable(said(text))
        raise PullError(said(text))
    return answer
