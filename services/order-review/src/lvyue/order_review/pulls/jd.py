"""JD POP's (JOS) open API: the shop's orders modified in a window (jingdong.pop.order.search,
dateType 0: by modification time), in slices of at most a day, page by page; one order
(jingdong.pop.order.get).

A gateway call is a form POST of the signed system parameters with the business ones as JSON
in 360buy_param_json (platform_signing.jos_call_params). Business parameters and answers, from
the JOS API pages (jos.jd.com) and the JOS SDKs' PopOrderSearchRequest / PopOrderGetRequest:
    jingdong.pop.order.search  start_date, end_date ("yyyy-MM-dd HH:mm:ss", GMT+8),
        order_state (the states asked for), page (from 1), page_size (at most 100),
        dateType 0, optional_fields
        -> {"jingdong_pop_order_search_responce": {"searchorderinfo_result":
            {"orderInfoList": [...], "orderTotal": n, "apiResult": {"success": true}}}}
    jingdong.pop.order.get  order_id, optional_fields -> {"jingdong_pop_order_get_responce":
        {"orderDetailInfo": {"orderInfo": {...}, "apiResult": {"success": true}}}}
(JOS spells it "responce"). Gateway errors are {"error_response": {"code", "zh_desc"}}: 43
(system error) and 65-67 (the backend unreachable or slow) are retried; apiResult.success
false is the API's refusal. TRADE_CANCELED is a cancelled order. The shop is the order's
venderId, as platforms/jd.py maps it. JOS's order messages (its message service) are not
implemented: JD shops are reconciled only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import httpx

from lvyue.common.platform_signing import china_time_text, jos_call_params
from lvyue.order_review.pulls.calls import (
    PullError,
    Retryable,
    json_answer,
    said,
    sliced_pages,
    with_retries,
)
from lvyue.order_review.pulls.source import Page, RawOrder
from lvyue.order_review.settings import ShopPull

MAX_PAGE_SIZE = 100
SLICE = timedelta(days=1)
RETRIED_CODES = frozenset({"43", "65", "66", "67"})
CANCELLED = "TRADE_CANCELED"
# every state an order of interest can be in: to ship, shipped, finished, cancelled, paused
STATES = ",".join(
    ("WAIT_SELLER_STOCK_OUT", "WAIT_GOODS_RECEIVE_CONFIRM", "FINISHED_L", "TRADE_CANCELED",
     "LOCKED", "PAUSE")
)  # fmt: skip
SEARCH = "jingdong.pop.order.search"
SEARCH_ANSWER = "jingdong_pop_order_search_responce"
DETAIL = "jingdong.pop.order.get"
FIELDS = (
    "orderId,venderId,orderType,payType,orderTotalPrice,orderSellerPrice,orderPayment,"
    "freightPrice,sellerDiscount,orderState,orderRemark,orderStartTime,paymentConfirmTime,"
    "modified,venderRemark,pin,open_id_buyer,consigneeInfo,itemInfoList"
)


class JdOrders:
    platform = "jd"

    def pages(
        self,
        client: httpx.AsyncClient,
        shop: ShopPull,
        *,
        since: datetime,
        until: datetime,
        limit: int,
    ) -> AsyncIterator[Page]:
        size = min(limit, MAX_PAGE_SIZE)

        async def page(start: datetime, end: datetime, number: int) -> tuple[list[RawOrder], bool]:
            business = {
                "start_date": china_time_text(start), "end_date": china_time_text(end),
                "order_state": STATES, "page": str(number), "page_size": str(size),
                "dateType": "0", "optional_fields": FIELDS,
            }  # fmt: skip
            answer = await with_retries(partial(call, client, shop, SEARCH, business))
            result = _result(answer, SEARCH_ANSWER, "searchorderinfo_result")
            listed = result.get("orderInfoList") or []
            if not isinstance(listed, list):
                raise PullError("京东 answered without an orderInfoList")
            total = result.get("orderTotal")
            more = isinstance(total, int) and number * size < total and len(listed) == size
            return [o for o in listed if isinstance(o, Mapping)], more

        return sliced_pages(since, until, SLICE, page)

    async def detail(
        self, client: httpx.AsyncClient, shop: ShopPull, platform_order_id: str
    ) -> RawOrder | None:
        business = {"order_id": platform_order_id, "optional_fields": FIELDS}
        answer = await with_retries(partial(call, client, shop, DETAIL, business))
        found = _result(answer, "jingdong_pop_order_get_responce", "orderDetailInfo")
        order = found.get("orderInfo")
        return order if isinstance(order, Mapping) else None

    def order_id(self, order: RawOrder) -> str:
        return str(order.get("orderId"))

    def cancellation(self, order: RawOrder) -> str | None:
        if order.get("orderState") != CANCELLED:
            return None
        return "the order was cancelled (TRADE_CANCELED)"

    def adapter_input(
        self, shop_id: str, order: RawOrder
    ) -> tuple[Mapping[str, str], Mapping[str, Any]]:
        return {}, {"orderInfo": order}


async def call(
    client: httpx.AsyncClient, shop: ShopPull, method: str, business: Mapping[str, str]
) -> Mapping[str, Any]:
    """One signed gateway call; its answer, or JOS's error raised."""
    params = jos_call_params(
        method, business, app_key=shop.app_key, secret=shop.app_secret.get_secret_value(),
        access_token=shop.access_token.get_secret_value(), now=datetime.now().astimezone(),
    )  # fmt: skip
    request = client.build_request("POST", shop.base_url, data=params)
    answer = await json_answer(client, request, "京东")
    error = answer.get("error_response")
    if isinstance(error, Mapping):
        code = str(error.get("code"))
        text = f"京东 {method}: {code} {error.get('zh_desc') or error.get('en_desc') or ''}"
        if code in RETRIED_CODES:
            raise Retryable(said(text))
        raise PullError(said(text))
    return answer


def _result(answer: Mapping[str, Any], name: str, inner: str) -> Mapping[str, Any]:
    found = answer.get(name)
    result = found.get(inner) if isinstance(found, Mapping) else None
    if not isinstance(result, Mapping):
        raise PullError(f"京东 answered without {name}.{inner}")
    api = result.get("apiResult")
    if isinstance(api, Mapping) and api.get("success") is False:
        refused = api.get("chineseErrCode") or api.get("englishErrCode")
        raise PullError(said(f"京东 refused: {refused}"))
    return result
