"""A dev sandbox sales platform: where `lvyue run` (dev only) points fulfilment's tracking sync,
and the shops order sync reads in tests and the demo.

Not a platform: it answers every platform's tracking-number call with that platform's success
shape, so a demo's tracking syncs end `synced` instead of `skipped`. It also keeps shops'
orders, each platform in its own module:
    sandbox_shopify.py    webhooks (some dropped), the Admin orders search and one order
    sandbox_douyin.py     抖店 message pushes (some dropped), order detail and search
    sandbox_pinduoduo.py  拼多多's message-service WebSocket, the gateway's order calls
    sandbox_taobao.py     淘宝 trades on the message queue (some dropped), trade detail, increments
    sandbox_jd.py         京东 orders found by the order search
Each platform gets its own path prefix (`/<platform>`); Shopify's access token is checked,
the signed platforms' calls must carry the sandbox app key and a valid sign.
Run: `python -m lvyue.cli.sandbox --port N`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from lvyue.cli import (
    sandbox_douyin,
    sandbox_jd,
    sandbox_pinduoduo,
    sandbox_shopify,
    sandbox_taobao,
)

APP_KEY = sandbox_douyin.APP_KEY  # one app for every signed platform of the sandbox
APP_SECRET = sandbox_douyin.APP_SECRET
ACCESS_TOKEN = sandbox_shopify.ACCESS_TOKEN  # one token for every platform of the sandbox
# Pinduoduo wants its numeric logistics_id per carrier, which each account looks up in its
# backend: the sandbox's own ids for the carriers lvyue knows (LVYUE_CARRIER_CODES).
SANDBOX_CARRIER_CODES = {
    "pinduoduo": {"SF": "44", "YTO": "85", "ZTO": "115", "STO": "1", "YUNDA": "121", "EMS": "3"}
}
# Platforms whose fulfilment adapter speaks their own API (the rest get lvyue's callback).
TOP_STYLE = {"taobao", "tmall"}


def platform_apis(base_url: str, platforms: Iterable[str]) -> str:
    """LVYUE_PLATFORM_APIS pointing every platform at the sandbox (JSON)."""
    return json.dumps(
        {
            p: {
                "base_url": f"{base_url}/{p}",
                "app_key": APP_KEY,
                "app_secret": APP_SECRET,
                "access_token": ACCESS_TOKEN,
            }
            for p in platforms
        }
    )


async def _params(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl((await request.body()).decode()))  # no python-multipart needed
    return dict(request.query_params)


async def answer(request: Request) -> Response:
    platform = request.path_params["platform"]
    rest = request.path_params.get("rest", "")
    if platform == "shopify":
        if request.headers.get("X-Shopify-Access-Token") != ACCESS_TOKEN:
            return JSONResponse({"errors": "[API] Invalid API key or access token"}, 401)
        if request.method == "GET" and rest.endswith("fulfillment_orders.json"):
            order_id = int(rest.split("/")[-2])
            return JSONResponse({"fulfillment_orders": [{"id": order_id, "status": "open"}]})
        return JSONResponse({"fulfillment": {"id": 1, "status": "success"}}, 201)
    params = await _params(request)
    key = params.get("client_id" if platform == "pinduoduo" else "app_key")
    if platform in TOP_STYLE | {"jd", "pinduoduo", "douyin"} and key != APP_KEY:
        return JSONResponse(
            {"error_response": {"code": "29", "error_code": 10019, "msg": "Invalid app key"}}
        )
    if platform in TOP_STYLE:
        if params.get("method") in sandbox_taobao.ORDER_METHODS:
            return sandbox_taobao.gateway(params)
        return JSONResponse({"logistics_offline_send_response": {"shipping": {"is_success": True}}})
    if platform == "jd":
        if params.get("method") in sandbox_jd.ORDER_METHODS:
            return sandbox_jd.gateway(params)
        return JSONResponse(
            {
                "jingdong_pop_order_shipment_responce": {
                    "code": "0",
                    "sopjosshipment_result": {"success": True},
                }
            }
        )
    if platform == "pinduoduo":
        if params.get("type") in sandbox_pinduoduo.ORDER_TYPES:
            return sandbox_pinduoduo.gateway(params)
        return JSONResponse({"logistics_online_send_response": {"is_success": True}})
    if platform == "douyin":
        return JSONResponse({"code": 10000, "msg": "success", "data": {}})
    return JSONResponse({"received": True})  # lvyue's own signed callback: any 2xx


async def shopify_orders(request: Request) -> Response:
    return sandbox_shopify.search_orders(request, request.path_params["shop"])


async def shopify_order(request: Request) -> Response:
    params = request.path_params
    return sandbox_shopify.get_order(request, params["shop"], params["order_id"])


def app() -> Starlette:
    return Starlette(
        routes=[
            Route("/livez", lambda _: JSONResponse({"status": "ok"})),
            # the sandbox's Shopify shops: their orders, read back by reconciliation
            Route("/shopify/{shop}/admin/api/{version}/orders.json", shopify_orders),
            Route("/shopify/{shop}/admin/api/{version}/orders/{order_id}.json", shopify_order),
            Route("/_sim/shopify/orders", sandbox_shopify.create_orders, methods=["POST"]),
            Route(
                "/_sim/shopify/orders/{order_id:int}/cancel",
                sandbox_shopify.cancel_order,
                methods=["POST"],
            ),
            Route("/_sim/shopify/faults", sandbox_shopify.set_faults, methods=["POST", "GET"]),
            # the sandbox's 抖店 shops: pushes, order.orderDetail and order.searchList
            Route("/douyin/order/orderDetail", sandbox_douyin.open_api, methods=["POST"]),
            Route("/douyin/order/searchList", sandbox_douyin.open_api, methods=["POST"]),
            Route("/_sim/douyin/orders", sandbox_douyin.create_orders, methods=["POST"]),
            Route(
                "/_sim/douyin/orders/{order_id}/cancel",
                sandbox_douyin.cancel_order,
                methods=["POST"],
            ),
            Route(
                "/_sim/douyin/orders/{order_id}/refund",
                sandbox_douyin.refund_order,
                methods=["POST"],
            ),
            Route(
                "/_sim/douyin/orders/{order_id}/address",
                sandbox_douyin.change_address,
                methods=["POST"],
            ),
            Route("/_sim/douyin/faults", sandbox_douyin.set_faults, methods=["POST"]),
            # the sandbox's 拼多多 app: its message service, its order calls (in `answer`)
            WebSocketRoute(
                "/pinduoduo/message/{client_id}/{stamp}/{sign}", sandbox_pinduoduo.message_service
            ),
            Route("/_sim/pinduoduo/orders", sandbox_pinduoduo.create_orders, methods=["POST"]),
            Route(
                "/_sim/pinduoduo/orders/{order_sn}/refund",
                sandbox_pinduoduo.refund_order,
                methods=["POST"],
            ),
            Route(
                "/_sim/pinduoduo/orders/{order_sn}/address",
                sandbox_pinduoduo.change_address,
                methods=["POST"],
            ),
            Route("/_sim/pinduoduo/messages", sandbox_pinduoduo.messages),
            # the sandbox's 淘宝 shop: its message queue and trade calls (in `answer`)
            Route("/_sim/taobao/trades", sandbox_taobao.create_trades, methods=["POST"]),
            Route("/_sim/taobao/messages", sandbox_taobao.messages),
            Route("/_sim/jd/orders", sandbox_jd.create_orders, methods=["POST"]),
            Route("/_sim/jd/orders/{order_id}/cancel", sandbox_jd.cancel_order, methods=["POST"]),
            Route("/_sim/taobao/trades/{tid}/close", sandbox_taobao.close_trade, methods=["POST"]),
            Route(
                "/_sim/taobao/trades/{tid}/address", sandbox_taobao.change_address, methods=["POST"]
            ),
            Route("/{platform}", answer, methods=["POST"]),  # the TOP-style gateways
            Route("/{platform}/{rest:path}", answer, methods=["GET", "POST"]),
        ],
    )


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app(), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
