"""The sandbox's 拼多多 (Pinduoduo) app: orders a test or the demo creates, announced over the
message service's WebSocket (a share dropped on purpose, some sent twice), and the gateway
calls lvyue fetches them with: pdd.order.information.get and
pdd.order.number.list.increment.get (30-minute windows, has_next paging).

Shapes follow platforms/pinduoduo.py, pulls/pinduoduo.py and notifications/pinduoduo.py in
order-review (which cite their sources). The connection's sign and every gateway call's sign
are checked. Control endpoints under /_sim/pinduoduo:
    POST /_sim/pinduoduo/orders   {"count", "drop_share", "repeat_share", "skus", "seed",
                                   "list_after_s"} -> {"ids", "dropped", "repeated"}
                                  (waits up to 10 s for the app's connection)
    POST /_sim/pinduoduo/orders/{order_sn}/refund   {"drop": false}: refunded before shipment
    POST /_sim/pinduoduo/orders/{order_sn}/address   {"name", "detail"}: a new receiver
    GET  /_sim/pinduoduo/messages   messages sent, and acknowledged, so far
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from lvyue.cli.sandbox_douyin import APP_KEY, APP_SECRET
from lvyue.cli.sandbox_shares import Shares
from lvyue.common.platform_signing import (
    CHINA,
    china_time_text,
    parse_china_time,
    pdd_message_sign,
    sign,
)

INCREMENT = "pdd.order.number.list.increment.get"
DETAIL = "pdd.order.information.get"
ORDER_TYPES = frozenset({INCREMENT, DETAIL})
CONFIRMED, REFUND_CREATED = "pdd_trade_TradeConfirmed", "pdd_refund_RefundCreated"
ADDRESS_CHANGED = "pdd_trade_TradeLogisticsAddressChanged"
MALL_ID = 77001234
MAX_WINDOW_S = 30 * 60


@dataclass
class PddStore:
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    listed: set[str] = field(default_factory=set)
    clients: set[WebSocket] = field(default_factory=set)
    sent: int = 0
    acked: set[int] = field(default_factory=set)
    connected: asyncio.Event = field(default_factory=asyncio.Event)


STORE = PddStore()


def _china(at: float) -> str:
    return china_time_text(datetime.fromtimestamp(at, CHINA))


def new_order(rng: random.Random, skus: list[str], now: float) -> dict[str, Any]:
    sku = rng.choice(skus)
    count = rng.randint(1, 3)
    stamp = _china(now)
    order_sn = f"{datetime.fromtimestamp(now, CHINA):%y%m%d}-{rng.randrange(10**14, 10**15)}"
    return {
        "order_sn": order_sn, "confirm_status": 1, "group_status": 1, "order_status": 1,
        "refund_status": 1, "trade_type": 0, "created_time": stamp, "pay_time": stamp,
        "confirm_time": stamp, "updated_at": stamp, "goods_amount": 168.0 * count,
        "discount_amount": 0.0, "postage": 0.0, "pay_amount": 168.0 * count,
        "province": "上海市", "city": "上海市", "town": "浦东新区",
        "receiver_address": "世纪大道100号 2号楼 1801室", "receiver_name": "张伟",
        "receiver_phone": f"139{rng.randrange(10**7, 10**8)}", "buyer_memo": "", "remark": "",
        "item_list": [
            {"goods_id": rng.randrange(10**11, 10**12), "sku_id": rng.randrange(10**12, 10**13),
             "outer_id": sku, "goods_name": sku, "goods_price": 168.0, "goods_count": count}
        ],
    }  # fmt: skip


def frame(kind: str, order: dict[str, Any], frame_id: int | None = None) -> dict[str, Any]:
    """A Common frame about the order (a new id unless one is given: a redelivery)."""
    if frame_id is None:
        STORE.sent += 1
        frame_id = STORE.sent
    now = int(time.time() * 1000)
    content = {"tid": order["order_sn"], "mall_id": MALL_ID}
    return {
        "commandType": "Common", "id": frame_id, "time": now, "sendTime": now,
        "message": {"type": kind, "mallID": MALL_ID, "content": json.dumps(content)},
    }  # fmt: skip


async def send(frames: list[dict[str, Any]]) -> None:
    for client in list(STORE.clients):
        for item in frames:
            await client.send_text(json.dumps(item, ensure_ascii=False))


async def _connected(timeout_s: float = 10.0) -> bool:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(STORE.connected.wait(), timeout_s)
    return bool(STORE.clients)


async def message_service(ws: WebSocket) -> None:
    """wss://.../message/{client_id}/{ms}/{sign}: the app's connection."""
    client_id, stamp = ws.path_params["client_id"], ws.path_params["stamp"]
    if client_id != APP_KEY or ws.path_params["sign"] != pdd_message_sign(
        client_id, stamp, APP_SECRET
    ):
        await ws.close(code=4001)
        return
    await ws.accept()
    STORE.clients.add(ws)
    STORE.connected.set()
    try:
        while True:
            got = json.loads(await ws.receive_text())
            if got.get("commandType") == "HeartBeat":
                await ws.send_text(json.dumps({"commandType": "HeartBeat", "time": got["time"]}))
            elif got.get("commandType") == "Ack":
                STORE.acked.add(int(got["id"]))
    except WebSocketDisconnect:
        pass
    finally:
        STORE.clients.discard(ws)
        if not STORE.clients:
            STORE.connected.clear()


async def create_orders(request: Request) -> Response:
    """New confirmed orders, each announced unless dropped; a share announced twice."""
    spec = await request.json()
    if not await _connected():
        return JSONResponse({"error": "no app is connected to the message service"}, 409)
    rng = random.Random(spec.get("seed", 1))
    count = int(spec["count"])
    made = [new_order(rng, list(spec["skus"]), time.time()) for _ in range(count)]
    shares = Shares.draw(rng, count, spec)
    for order in made:  # its detail can be fetched as soon as it is announced
        STORE.orders[order["order_sn"]] = order
    for n in (n for n in range(count) if n not in shares.dropped):
        first = frame(CONFIRMED, made[n])
        again = [first, frame(CONFIRMED, made[n])] if n in shares.repeated else []
        await send([first, *again])  # a repeat: the same frame again, and a second one
    ids = [o["order_sn"] for o in made]
    asyncio.get_running_loop().call_later(
        float(spec.get("list_after_s", 0.0)), STORE.listed.update, ids
    )
    return JSONResponse(shares.answer(ids))


async def refund_order(request: Request) -> Response:
    """The buyer is refunded before shipment (退款成功), announced as RefundCreated."""
    order = STORE.orders.get(request.path_params["order_sn"])
    if order is None:
        return JSONResponse({"error": "no such order"}, 404)
    spec = await request.json()
    order.update(refund_status=4, updated_at=_china(time.time()))
    if not spec.get("drop"):
        await send([frame(REFUND_CREATED, order)])
    return JSONResponse({"order_sn": order["order_sn"], "refund_status": 4})


async def change_address(request: Request) -> Response:
    """The buyer changes the receiver ({"name", "detail"}), announced as AddressChanged."""
    order = STORE.orders.get(request.path_params["order_sn"])
    if order is None:
        return JSONResponse({"error": "no such order"}, 404)
    spec = await request.json()
    order.update(receiver_name=str(spec["name"]), receiver_address=str(spec["detail"]))
    order["updated_at"] = _china(time.time())
    await send([frame(ADDRESS_CHANGED, order)])
    return JSONResponse({"order_sn": order["order_sn"]})


async def messages(request: Request) -> Response:
    return JSONResponse({"sent": STORE.sent, "acked": len(STORE.acked)})


def _error(code: int, msg: str) -> JSONResponse:
    return JSONResponse({"error_response": {"error_code": code, "error_msg": msg}})


def gateway(params: dict[str, str]) -> Response:
    """The two order calls of the gateway, signed as every call is."""
    given = params.pop("sign", "")
    if params.get("client_id") != APP_KEY or given != sign(params, APP_SECRET):
        return _error(10019, "签名错误或client_id无效")
    if params["type"] == DETAIL:
        order = STORE.orders.get(params.get("order_sn", ""))
        if order is None:
            return _error(52101, "订单不存在")
        return JSONResponse({"order_info_get_response": {"order_info": order}})
    low, high = int(params["start_updated_at"]), int(params["end_updated_at"])
    if not 0 <= high - low <= MAX_WINDOW_S:
        return _error(10000, "end_updated_at - start_updated_at 不能超过30分钟")
    page, size = int(params.get("page", 1)), min(int(params.get("page_size", 100)), 100)
    found = sorted(
        (o for sn, o in STORE.orders.items() if sn in STORE.listed and low <= _stamp(o) <= high),
        key=lambda o: (_stamp(o), o["order_sn"]),
    )
    chunk = found[(page - 1) * size : page * size]
    return JSONResponse(
        {"order_sn_increment_get_response": {
            "total_count": len(found), "has_next": page * size < len(found),
            "order_sn_list": chunk}}
    )  # fmt: skip


def _stamp(order: dict[str, Any]) -> int:
    moment = parse_china_time(order["updated_at"])
    return int(moment.timestamp()) if moment else 0
