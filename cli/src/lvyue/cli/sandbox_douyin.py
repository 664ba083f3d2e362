"""The sandbox's 抖店 (Douyin shop): orders a test or the demo creates, announced by 消息推送
(a share of the pushes dropped on purpose, some pushed twice), and the open API that lvyue
fetches them with: order.orderDetail and order.searchList by update time.

Shapes follow platforms/douyin.py and pulls/douyin.py in order-review (which cite their
sources): a push is a JSON array of {tag, msg_id, data (JSON text)} signed with event-sign =
md5(app_key + body + app_secret); API calls carry app_key, method, access_token, timestamp, v,
sign_method and sign in the query and the sorted JSON business parameters as the body, and the
sandbox checks every one of them. Control endpoints under /_sim/douyin:
    POST /_sim/douyin/orders   {"shop_id", "count", "drop_share", "repeat_share", "push_url",
                                "skus", "seed", "list_after_s"} -> {"ids": [...],
                                "dropped": [...], "repeated": [...]}
    POST /_sim/douyin/orders/{id}/cancel   {"push_url", "drop": false}: the buyer cancels
    POST /_sim/douyin/orders/{id}/refund   {"push_url", "drop": false}: refunded before shipment
    POST /_sim/douyin/orders/{id}/address   {"push_url", "name", "detail"}: a new receiver
    POST /_sim/douyin/faults   {"fail_pages": n, "from_offset": k, "status": 500|429}
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lvyue.cli.sandbox_shares import Shares
from lvyue.cli.sandbox_shopify import ACCESS_TOKEN, Faults
from lvyue.common.platform_signing import DOUYIN_API_VERSION, douyin_api_sign, douyin_param_json

APP_KEY = "dev-sandbox-app-key"
APP_SECRET = "dev-sandbox-app-secret"
PAID, CANCELLED = 2, 4  # order_status 备货中 (paid, to ship), 已取消
REFUNDED_BEFORE_SHIPMENT = 21  # main_status 发货前退款完结 (main_status is order_status otherwise)
TAG_PAID, TAG_ADDRESS_CHANGED, TAG_CANCELLED = "101", "105", "106"
TAG_REFUNDED, WHOLE_ORDER_BEFORE_SHIPMENT = "206", 2  # RefundSuccess and its aftersale_type
MAX_SIZE = 100


@dataclass
class DouyinStore:
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    listed: set[str] = field(default_factory=set)  # what order.searchList finds
    faults: Faults = field(default_factory=Faults)
    messages: int = 0


STORE = DouyinStore()


def new_order(rng: random.Random, skus: list[str], shop_id: str, now: int) -> dict[str, Any]:
    order_id = str(rng.randrange(6 * 10**18, 7 * 10**18))
    sku = rng.choice(skus)
    quantity = rng.randint(1, 3)
    amount = 16800 * quantity
    return {
        "order_id": order_id,
        "order_status": PAID,
        "order_status_desc": "备货中",
        "main_status": PAID,
        "main_status_desc": "备货中",
        "create_time": now,
        "pay_time": now,
        "update_time": now,
        "order_amount": amount,
        "pay_amount": amount,
        "post_amount": 0,
        "promotion_amount": 0,
        "shop_id": int(shop_id),
        "buyer_words": "",
        "seller_words": "",
        "post_receiver": "张伟",
        "post_tel": f"139{rng.randrange(10**7, 10**8)}",
        "post_addr": {
            "province": {"name": "上海市", "id": "31"},
            "city": {"name": "上海市", "id": "310100"},
            "town": {"name": "浦东新区", "id": "310115"},
            "street": {"name": "花木街道", "id": "310115008"},
            "detail": "世纪大道100号 2号楼 1801室",
        },
        "sku_order_list": [
            {
                "order_id": str(int(order_id) + 1),
                "parent_order_id": order_id,
                "product_id_str": str(rng.randrange(10**18, 2 * 10**18)),
                "product_name": sku,
                "sku_id": rng.randrange(10**15, 10**16),
                "code": sku,
                "item_num": quantity,
                "origin_amount": 16800,
                "sum_amount": amount,
                "pay_amount": amount,
                "order_status": PAID,
            }
        ],
    }


def message(tag: str, order: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """One push message about the order, with a new message id."""
    STORE.messages += 1
    data = {
        "p_id": int(order["order_id"]),
        "s_ids": [int(line["order_id"]) for line in order["sku_order_list"]],
        "shop_id": order["shop_id"],
        "order_status": order["order_status"],
        "update_time": order["update_time"],
        **extra,
    }
    msg_id = f"{order['order_id']}:{tag}:{STORE.messages}"
    return {"tag": tag, "msg_id": msg_id, "data": json.dumps(data)}


def push_headers(body: bytes) -> dict[str, str]:
    sign = hashlib.md5(APP_KEY.encode() + body + APP_SECRET.encode()).hexdigest()
    return {
        "Content-Type": "application/json",
        "app-id": APP_KEY,
        "event-sign": sign,
        "sign-method": "md5",
    }


async def push(client: httpx.AsyncClient, url: str, messages: list[dict[str, Any]]) -> str | None:
    """The messages as one push; the receiver's complaint, or None if it said success."""
    body = json.dumps(messages, ensure_ascii=False).encode()
    answer = await client.post(url, content=body, headers=push_headers(body))
    if answer.status_code != 200 or answer.json().get("code") != 0:
        return f"{answer.status_code}: {answer.text[:300]}"
    return None


async def create_orders(request: Request) -> Response:
    """New paid orders, each pushed as TradePaid unless dropped; a share pushed twice."""
    spec = await request.json()
    rng = random.Random(spec.get("seed", 1))
    count = int(spec["count"])
    shop_id, skus, url = str(spec["shop_id"]), list(spec["skus"]), str(spec["push_url"])
    made = [new_order(rng, skus, shop_id, int(time.time())) for _ in range(count)]
    shares = Shares.draw(rng, count, spec)
    for order in made:  # its detail can be fetched as soon as it is pushed...
        STORE.orders[order["order_id"]] = order
    async with httpx.AsyncClient(timeout=10.0) as client:
        for n, order in enumerate(made):
            if n in shares.dropped:
                continue
            paid = message(TAG_PAID, order)
            twice = n in shares.repeated
            pushes = [[paid], [paid, message(TAG_PAID, order)]] if twice else [[paid]]
            for messages in pushes:  # a repeat: the same message again, and a second one
                if (error := await push(client, url, messages)) is not None:
                    return JSONResponse({"error": error, "order": order["order_id"]}, 502)
    # ...and searchable once every push went out (a pull that overtook a push in flight would
    # count its order as missed: in life it may, a test wants the count exact), or
    # `list_after_s` later (the search index behind the pushes, as a platform's may be).
    ids = [o["order_id"] for o in made]
    asyncio.get_running_loop().call_later(
        float(spec.get("list_after_s", 0.0)), STORE.listed.update, ids
    )
    return JSONResponse(shares.answer(ids))


async def cancel_order(request: Request) -> Response:
    """The buyer cancels: order_status 4, update_time now, and TradeCanceled pushed."""

    def cancel(order: dict[str, Any]) -> dict[str, Any]:
        order.update(
            order_status=CANCELLED, order_status_desc="已取消", cancel_reason="买家取消",
            main_status=CANCELLED, main_status_desc="已取消",
        )  # fmt: skip
        return message(TAG_CANCELLED, order)

    return await _buyer_changes(request, cancel)


async def change_address(request: Request) -> Response:
    """The buyer changes the receiver ({"name", "detail"}); TradeAddressChanged pushed."""
    spec = await request.json()

    def move(order: dict[str, Any]) -> dict[str, Any]:
        order["post_receiver"] = str(spec["name"])
        order["post_addr"]["detail"] = str(spec["detail"])
        return message(TAG_ADDRESS_CHANGED, order)

    return await _buyer_changes(request, move)


async def refund_order(request: Request) -> Response:
    """The whole order refunded before shipment (发货前整单退款): the order closes (order_status
    4, main_status 21 发货前退款完结, no cancel_reason) and RefundSuccess is pushed."""

    def refund(order: dict[str, Any]) -> dict[str, Any]:
        order.update(
            order_status=CANCELLED, order_status_desc="已关闭",
            main_status=REFUNDED_BEFORE_SHIPMENT, main_status_desc="发货前退款完结",
        )  # fmt: skip
        return message(
            TAG_REFUNDED, order, aftersale_id=int(order["order_id"]) + 7,
            aftersale_type=WHOLE_ORDER_BEFORE_SHIPMENT, aftersale_status=12,
        )  # fmt: skip

    return await _buyer_changes(request, refund)


async def _buyer_changes(
    request: Request, change: Callable[[dict[str, Any]], dict[str, Any]]
) -> Response:
    """The order changed by `change` (which gives the message to push) at update_time now, and
    the message pushed to {"push_url"} unless {"drop": true}."""
    order = STORE.orders.get(request.path_params["order_id"])
    if order is None:
        return JSONResponse({"error": "no such order"}, 404)
    spec = await request.json()
    order["update_time"] = int(time.time())
    pushed = change(order)
    if not spec.get("drop"):
        async with httpx.AsyncClient(timeout=10.0) as client:
            error = await push(client, str(spec["push_url"]), [pushed])
        if error is not None:
            return JSONResponse({"error": error}, 502)
    return JSONResponse({"order_id": order["order_id"], "order_status": order["order_status"]})


async def set_faults(request: Request) -> Response:
    STORE.faults = Faults.of(await request.json())
    return JSONResponse({"ok": True})


def _error(code: int, msg: str, sub_msg: str = "") -> JSONResponse:
    return JSONResponse({"code": code, "msg": msg, "sub_code": "", "sub_msg": sub_msg, "data": {}})


async def open_api(request: Request) -> Response:
    """POST /douyin/order/orderDetail and /douyin/order/searchList, signed calls."""
    query = dict(request.query_params)
    body = (await request.body()).decode()
    method = "order." + request.url.path.rsplit("/", 1)[-1]
    if query.get("app_key") != APP_KEY or query.get("access_token") != ACCESS_TOKEN:
        return _error(30001, "app_key或access_token无效")
    expected = douyin_api_sign(
        APP_KEY, APP_SECRET, method, body, query.get("timestamp", ""),
        query.get("sign_method", "md5"),
    )  # fmt: skip
    if query.get("method") != method or query.get("v") != DOUYIN_API_VERSION:
        return _error(40004, "参数错误", "method or v")
    if query.get("sign") != expected:
        return _error(30002, "签名错误")
    try:
        business = json.loads(body)
    except ValueError:
        return _error(40004, "参数错误", "param_json")
    if body != douyin_param_json(business):
        return _error(40004, "参数错误", "param_json keys not sorted")
    if method == "order.orderDetail":
        order = STORE.orders.get(str(business.get("shop_order_id")))
        if order is None:
            return _error(50002, "业务处理失败", "订单不存在")
        return _ok({"shop_order_detail": order})
    return _search(business)


def _ok(data: dict[str, Any]) -> JSONResponse:
    return JSONResponse(
        {"code": 10000, "msg": "success", "sub_code": "", "sub_msg": "", "data": data}
    )


def _search(business: dict[str, Any]) -> Response:
    low, high = int(business["update_time_start"]), int(business["update_time_end"])
    page, size = int(business.get("page", 0)), min(int(business.get("size", 10)), MAX_SIZE)
    found = sorted(
        (
            o
            for o in STORE.orders.values()
            if o["order_id"] in STORE.listed and low <= o["update_time"] <= high
        ),
        key=lambda o: (o["update_time"], o["order_id"]),
    )
    faults = STORE.faults
    offset = page * size
    if faults.fail_pages > 0 and faults.from_offset <= offset < len(found):
        faults.fail_pages -= 1
        if faults.status == 429:
            return JSONResponse({"code": 429, "msg": "rate limited"}, 429, {"Retry-After": "0.1"})
        return JSONResponse({"code": 20000, "msg": "系统错误"}, faults.status)
    return _ok(
        {"shop_order_list": found[offset : offset + size], "page": page, "size": size,
         "total": len(found)}
    )  # fmt: skip
