"""A platform's error text is cut where the pulls' clients read it: an answer may be 16 MiB,
and what a PullError says goes to the log (masked, on the event loop) and to the database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from lvyue.order_review.pulls import douyin, jd, pinduoduo, taobao
from lvyue.order_review.pulls.calls import MAX_SAID_CHARS, PullError, Retryable
from lvyue.order_review.pulls.jd import JdOrders
from lvyue.order_review.pulls.shopify import ShopifyOrders
from lvyue.order_review.settings import ShopPull

SHOP = ShopPull(base_url="https://gw.example", access_token="t", app_key="k", app_secret="s")
LONG = "系统繁忙 请稍后再试 路 " + "a" * 40_000  # a mark of an address, then a long word run

Call = Callable[[httpx.AsyncClient], Awaitable[Any]]


def _gateway(module: Any) -> Call:
    async def call(client: httpx.AsyncClient) -> Any:
        return await module.call(client, SHOP, "some.method", {"x": "1"})

    return call


async def _jd_detail(client: httpx.AsyncClient) -> Any:
    return await JdOrders().detail(client, SHOP, "1")


async def _shopify_detail(client: httpx.AsyncClient) -> Any:
    return await ShopifyOrders().detail(client, SHOP, "1")


# (what the platform answered, how it is called, its answer, the error raised)
LONG_ERRORS: list[tuple[str, Call, httpx.Response, type[PullError]]] = [
    ("淘宝 busy (retried)", _gateway(taobao), httpx.Response(200, json={"error_response": {
        "code": 15, "msg": LONG, "sub_code": "isp.busy", "sub_msg": LONG}}), Retryable),
    ("淘宝 refused", _gateway(taobao), httpx.Response(200, json={"error_response": {
        "code": 15, "msg": LONG, "sub_code": "isv.invalid", "sub_msg": LONG}}), PullError),
    ("京东 system error (retried)", _gateway(jd), httpx.Response(200, json={"error_response": {
        "code": "43", "zh_desc": LONG}}), Retryable),
    ("京东 refused", _gateway(jd), httpx.Response(200, json={"error_response": {
        "code": "19", "zh_desc": LONG}}), PullError),
    ("京东 apiResult refused", _jd_detail, httpx.Response(200, json={
        "jingdong_pop_order_get_responce": {"orderDetailInfo": {"apiResult": {
            "success": False, "chineseErrCode": LONG}}}}), PullError),
    ("拼多多 platform error (retried)", _gateway(pinduoduo), httpx.Response(200, json={
        "error_response": {"error_code": 50001, "error_msg": LONG, "sub_msg": LONG}}), Retryable),
    ("拼多多 refused", _gateway(pinduoduo), httpx.Response(200, json={"error_response": {
        "error_code": 10000, "error_msg": LONG, "sub_msg": LONG}}), PullError),
    ("抖店 system error (retried)", _gateway(douyin), httpx.Response(200, json={
        "code": 20000, "msg": LONG, "sub_msg": LONG}), Retryable),
    ("抖店 refused", _gateway(douyin), httpx.Response(200, json={
        "code": 30001, "msg": LONG, "sub_msg": LONG}), PullError),
    ("Shopify refused", _shopify_detail, httpx.Response(403, text=LONG), PullError),
]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "answer", "raised"),
    [pytest.param(c, a, r, id=name) for name, c, a, r in LONG_ERRORS],
)
async def test_a_platforms_long_error_text_is_cut_where_it_is_read(
    call: Call, answer: httpx.Response, raised: type[PullError]
) -> None:
    transport = httpx.MockTransport(lambda _: answer)
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(raised) as error:
            await call(client)
    said = str(error.value)
    assert len(said) <= MAX_SAID_CHARS
    assert "系统繁忙" in said  # what the platform said, its beginning kept
