"""The sandbox's 京东 (JD POP) shop: orders a test or the demo creates, and the two JOS gateway
calls lvyue reconciles them with: jingdong.pop.order.search (by modification time, pages) and
jingdong.pop.order.get. No notifications: JOS's message service is not implemented by lvyue,
so JD orders arrive only by pull.

Shapes follow platforms/jd.py and pulls/jd.py in order-review (which cite their sources); every
call's sign is checked. Control endpoints under /_sim/jd:
    POST /_sim/jd/orders   {"vender_id", "count", "skus", "seed"} -> {"ids": [...]}
    POST /_sim/jd/orders/{order_id}/cancel   the buyer cancels: TRADE_CANCELED
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lvyue.cli.sandbox_douyin import APP_SECRET
from lvyue.cli.sandbox_shopify import ACCESS_TOKEN
from lvyue.common.platform_signing import CHINA, china_time_text, parse_china_time, sign

SEARCH = "jingdong.pop.order.search"
DETAIL = "jingdong.pop.order.get"
ORDER_METHODS = frozenset({SEARCH, DETAIL})


@dataclass
class JdStore:
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)


STORE = JdStore()


def _now() -> str:
    return china_time_text(datetime.now(CHINA))


def new_order(rng: random.Random, skus: list[str], vender_id: str) -> dict[str, Any]:
    order_id = str(rng.randrange(3 * 10**11, 4 * 10**11))
    sku, count = rng.choice(skus), rng.randint(1, 3)
    total = f"{168 * count:.2f}"
    stamp = _now()
    return {
        "orderId": order_id, "venderId": vender_id, "orderType": "22", "payType": "4-在线支付",
        "orderTotalPrice": total, "orderSellerPrice": total, "orderPayment": total,
        "freightPrice": "0.00", "sellerDiscount": "0.00", "orderState": "WAIT_SELLER_STOCK_OUT",
        "orderRemark": "", "orderStartTime": stamp, "paymentConfirmTime": stamp,
        "modified": stamp, "venderRemark": "", "pin": "jd_sandbox",
        "consigneeInfo": {
            "fullname": "张伟", "mobile": f"139{rng.randrange(10**7, 10**8)}",
            "fullAddress": "上海上海市浦东新区花木街道世纪大道100号 2号楼 1801室",
            "province": "上海", "city": "上海市", "county": "浦东新区", "town": "花木街道",
        },
        "itemInfoList": [{"skuId": str(rng.randrange(10**11, 10**12)), "outerSkuId": sku,
                          "skuName": sku, "jdPrice": "168.00", "itemTotal": str(count)}],
    }  # fmt: skip


async def create_orders(request: Request) -> Response:
    spec = await request.json()
    rng = random.Random(spec.get("seed", 1))
    made = [
        new_order(rng, list(spec["skus"]), str(spec["vender_id"]))
        for _ in range(int(spec["count"]))
    ]
    for order in made:
        STORE.orders[order["orderId"]] = order
    return JSONResponse({"ids": [o["orderId"] for o in made]})


async def cancel_order(request: Request) -> Response:
    order = STORE.orders.get(request.path_params["order_id"])
    if order is None:
        return JSONResponse({"error": "no such order"}, 404)
    order.update(orderState="TRADE_CANCELED", modified=_now())
    return JSONResponse({"orderId": order["orderId"], "orderState": "TRADE_CANCELED"})


def _error(code: str, desc: str) -> JSONResponse:
    return JSONResponse({"error_response": {"code": code, "zh_desc": desc, "en_desc": desc}})


def gateway(params: dict[str, str]) -> Response:
    """The two order calls of JOS's gateway, signed as every call is."""
    given = params.pop("sign", "")
    if params.get("access_token") != ACCESS_TOKEN:
        return _error("19", "token已过期或者不存在")
    if given != sign(params, APP_SECRET):
        return _error("14", "签名无效")
    business = json.loads(params.get("360buy_param_json") or "{}")
    ok = {"success": True, "resultCode": "0"}
    if params["method"] == DETAIL:
        order = STORE.orders.get(str(business.get("order_id")))
        if order is None:
            return JSONResponse({"jingdong_pop_order_get_responce": {"orderDetailInfo": {
                "apiResult": {"success": False, "chineseErrCode": "订单不存在"}}}})  # fmt: skip
        return JSONResponse({"jingdong_pop_order_get_responce": {"orderDetailInfo": {
            "orderInfo": order, "apiResult": ok}}})  # fmt: skip
    low, high = _at(business["start_date"]), _at(business["end_date"])
    states = set(str(business.get("order_state", "")).split(","))
    found = sorted(
        (o for o in STORE.orders.values()
         if low <= _at(o["modified"]) <= high and o["orderState"] in states),
        key=lambda o: (_at(o["modified"]), o["orderId"]),
    )  # fmt: skip
    page, size = int(business.get("page", 1)), min(int(business.get("page_size", 20)), 100)
    chunk = found[(page - 1) * size : page * size]
    return JSONResponse({"jingdong_pop_order_search_responce": {"searchorderinfo_result": {
        "orderInfoList": chunk, "orderTotal": len(found), "apiResult": ok}}})  # fmt: skip


def _at(text: str) -> float:
    moment = parse_china_time(text)
    return moment.timestamp() if moment else 0.0
