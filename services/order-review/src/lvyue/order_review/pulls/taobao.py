"""Taobao/Tmall's (TOP) open API: the seller's trades modified in a window
(taobao.trades.sold.increment.get), in slices of at most a day as the API requires, page by
page; one trade (taobao.trade.fullinfo.get).

A gateway call is a form POST of the signed system parameters and the business ones
(platform_signing.top_call_params). Business parameters and answers, from the API pages
(open.taobao.com) and the TOP SDKs' request classes:
    taobao.trades.sold.increment.get  fields, start_modified and end_modified ("yyyy-MM-dd
        HH:mm:ss", GMT+8, within one day), page_no (from 1), page_size (at most 100),
        use_has_next true
        -> {"trades_sold_increment_get_response": {"trades": {"trade": [...]}, "has_next"}}
    taobao.trade.fullinfo.get  fields, tid -> {"trade_fullinfo_get_response": {"trade": {}}}
Errors are {"error_response": {"code", "msg", "sub_code", "sub_msg"}}; code 7 (App Call
Limited), 10 (Service Currently Unavailable) and isp.* sub-codes are retried. A trade closed
(TRADE_CLOSED: refunded after payment; TRADE_CLOSED_BY_TAOBAO: never paid) is not to be
shipped, so lvyue treats it as cancelled. The shop is the trade's seller_nick, as
platforms/taobao.py maps it. The trades' notifications come from TOP's message service
(notifications/taobao.py); this pull finds what they missed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import httpx

from lvyue.common.platform_signing import china_time_text, top_call_params
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
SLICE = timedelta(days=1)  # the increment API's longest window
RETRIED_CODES = frozenset({7, 10})
CLOSED = frozenset({"TRADE_CLOSED", "TRADE_CLOSED_BY_TAOBAO"})
INCREMENT = "taobao.trades.sold.increment.get"
DETAIL = "taobao.trade.fullinfo.get"
# What platforms/taobao.py reads of a trade (and its orders), asked for by name as TOP requires.
FIELDS = ",".join(
    (
        "tid,tid_str,status,seller_nick,buyer_nick,buyer_open_uid,created,pay_time,modified",
        "total_fee,post_fee,discount_fee,payment,shipping_type,trade_from",
        "buyer_message,seller_memo,receiver_name,receiver_mobile,receiver_phone",
        "receiver_state,receiver_city,receiver_district,receiver_town,receiver_address",
        "receiver_zip,orders.oid,orders.sku_id,orders.outer_sku_id,orders.outer_iid",
        "orders.title,orders.num,orders.price",
    )
)


class TaobaoOrders:
    platform = "taobao"

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
                "fields": FIELDS, "start_modified": china_time_text(start),
                "end_modified": china_time_text(end), "page_no": str(number),
                "page_size": size, "use_has_next": "true",
            }  # fmt: skip
            answer = await with_retries(partial(call, client, shop, INCREMENT, business))
            found = answer_part(answer, "trades_sold_increment_get_response", "淘宝")
            trades = found.get("trades")
            listed = trades.get("trade") if isinstance(trades, Mapping) else []
            if not isinstance(listed, list):
                raise PullError("淘宝 answered without a trades list")
            return [t for t in listed if isinstance(t, Mapping)], found.get("has_next") is True

        return sliced_pages(since, until, SLICE, page)

    async def detail(
        self, client: httpx.AsyncClient, shop: ShopPull, platform_order_id: str
    ) -> RawOrder | None:
        business = {"fields": FIELDS, "tid": platform_order_id}
        answer = await with_retries(partial(call, client, shop, DETAIL, business))
        found = answer_part(answer, "trade_fullinfo_get_response", "淘宝").get("trade")
        return found if isinstance(found, Mapping) else None

    def order_id(self, order: RawOrder) -> str:
        return str(order.get("tid_str") or order.get("tid"))

    def cancellation(self, order: RawOrder) -> str | None:
        status = order.get("status")
        return f"the trade was closed ({status})" if status in CLOSED else None

    def adapter_input(
        self, shop_id: str, order: RawOrder
    ) -> tuple[Mapping[str, str], Mapping[str, Any]]:
        return {}, {"trade": order}


async def call(
    client: httpx.AsyncClient,
    shop: ShopPull,
    method: str,
    business: Mapping[str, str],
    *,
    app_level: bool = False,
) -> Mapping[str, Any]:
    """One signed gateway call (an app-level one, the message service's, without the shop's
    session); its answer, or TOP's error raised."""
    session = "" if app_level else shop.access_token.get_secret_value()
    params = top_call_params(
        method, business, app_key=shop.app_key, secret=shop.app_secret.get_secret_value(),
        session=session, now=datetime.now().astimezone(),
    )  # fmt: skip
    request = client.build_request("POST", shop.base_url, data=params)
    answer = await json_answer(client, request, "淘宝")
    error = answer.get("error_response")
    if isinstance(error, Mapping):
        code, sub_code = error.get("code"), str(error.get("sub_code") or "")
        text = f"淘宝 {method}: {code} {error.get('msg', '')} {sub_code} {error.get('sub_msg', '')}"
        if code in RETRIED_CODES or sub_code.startswith("isp."):
            raise Retryable(said(text))
        raise PullError(said(text))
    return answer
