"""The sandbox's 淘宝 (Taobao) shop: trades a test or the demo creates, announced on the app's
message queue (TMC: a share dropped on purpose, some announced twice), and the TOP gateway calls
lvyue reads them with: taobao.tmc.messages.consume and .confirm (a message not confirmed in time
is delivered again), taobao.trades.sold.increment.get (windows of at most a day,
has_next paging) and taobao.trade.fullinfo.get.

Shapes follow platforms/taobao.py, pulls/taobao.py and notifications/taobao.py in order-review
(which cite their sources); every call's sign is checked. Control endpoints under /_sim/taobao:
    POST /_sim/taobao/trades   {"seller_nick", "count", "skus", "seed", "drop_share",
                                "repeat_share", "list_after_s"} -> {"ids", "dropped", "repeated"}
    POST /_sim/taobao/trades/{tid}/close   {"drop": false}: refunded before shipment, TRADE_CLOSED
    POST /_sim/taobao/trades/{tid}/address   {"name", "detail"}: the buyer's new receiver
    GET  /_sim/taobao/messages   messages announced, and confirmed, so far
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lvyue.cli.sandbox_douyin import APP_SECRET
from lvyue.cli.sandbox_shares import Shares
from lvyue.cli.sandbox_shopify import ACCESS_TOKEN
from lvyue.common.platform_signing import CHINA, china_time_text, parse_china_time, sign

INCREMENT = "taobao.trades.sold.increment.get"
DETAIL = "taobao.trade.fullinfo.get"
CONSUME, CONFIRM = "taobao.tmc.messages.consume", "taobao.tmc.messages.confirm"
ORDER_METHODS = frozenset({INCREMENT, DETAIL, CONSUME, CONFIRM})
PAID, CLOSED = "taobao_trade_TradeBuyerPay", "taobao_trade_TradeClose"
ADDRESS_CHANGED = "taobao_trade_TradeLogisticsAddressChanged"
MAX_WINDOW_S = 24 * 3600


@dataclass
class TaobaoStore:
    trades: dict[str, dict[str, Any]] = field(default_factory=dict)
    unlisted: set[str] = field(default_factory=set)  # trades the increment call shows later
    queue: dict[int, dict[str, Any]] = field(default_factory=dict)  # messages not confirmed
    consumed_at: dict[int, float] = field(default_factory=dict)
    sent: int = 0
    confirmed: int = 0
    redeliver_s: float = 10.0  # a message consumed and not confirmed this long comes again


STORE = TaobaoStore()


def _now() -> str:
    return china_time_text(datetime.now(CHINA))


def new_trade(rng: random.Random, skus: list[str], seller_nick: str) -> dict[str, Any]:
    tid = str(rng.randrange(3 * 10**18, 4 * 10**18))
    sku, num = rng.choice(skus), rng.randint(1, 3)
    total = f"{168 * num:.2f}"
    stamp = _now()
    return {
        "tid": int(tid), "tid_str": tid, "status": "WAIT_SELLER_SEND_GOODS",
        "seller_nick": seller_nick, "buyer_nick": "t**1", "created": stamp, "pay_time": stamp,
        "modified": stamp, "total_fee": total, "post_fee": "0.00", "discount_fee": "0.00",
        "payment": total, "shipping_type": "express", "trade_from": "WAP",
        "receiver_name": "张伟", "receiver_mobile": f"139{rng.randrange(10**7, 10**8)}",
        "receiver_state": "上海市", "receiver_city": "上海市", "receiver_district": "浦东新区",
        "receiver_address": "世纪大道100号 2号楼 1801室", "receiver_zip": "200120",
        "buyer_message": "", "seller_memo": "",
        "orders": {"order": [{"oid": int(tid) + 1, "sku_id": str(rng.randrange(10**12, 10**13)),
                              "outer_sku_id": sku, "title": sku, "num": num, "price": "168.00"}]},
    }  # fmt: skip


def announce(topic: str, trade: dict[str, Any]) -> None:
    """A message about the trade on the app's queue (a new id each time)."""
    STORE.sent += 1
    message_id = 7104300000000000000 + STORE.sent
    content = {"tid": trade["tid"], "oid": trade["tid"] + 1, "seller_nick": trade["seller_nick"],
               "buyer_nick": trade["buyer_nick"], "status": trade["status"],
               "payment": trade["payment"], "type": "guarantee_trade"}  # fmt: skip
    STORE.queue[message_id] = {
        "id": message_id, "topic": topic, "user_id": 2206512345, "pub_app_key": "12497914",
        "user_nick": trade["seller_nick"], "pub_time": _now(),
        "content": json.dumps(content, ensure_ascii=False),
    }  # fmt: skip


async def create_trades(request: Request) -> Response:
    """New paid trades, each announced unless dropped; a share announced twice."""
    spec = await request.json()
    rng = random.Random(spec.get("seed", 1))
    count = int(spec["count"])
    made = [new_trade(rng, list(spec["skus"]), str(spec["seller_nick"])) for _ in range(count)]
    shares = Shares.draw(rng, count, spec)
    for trade in made:
        STORE.trades[trade["tid_str"]] = trade
    for n in (n for n in range(count) if n not in shares.dropped):
        for _ in range(2 if n in shares.repeated else 1):
            announce(PAID, made[n])
    ids = [t["tid_str"] for t in made]
    if float(spec.get("list_after_s", 0.0)) > 0:  # the search index lags the message queue
        STORE.unlisted.update(ids)
        asyncio.get_running_loop().call_later(
            float(spec["list_after_s"]), STORE.unlisted.difference_update, ids
        )
    return JSONResponse(shares.answer(ids))


async def close_trade(request: Request) -> Response:
    trade = STORE.trades.get(request.path_params["tid"])
    if trade is None:
        return JSONResponse({"error": "no such trade"}, 404)
    spec = await request.json()
    trade.update(status="TRADE_CLOSED", modified=_now())
    if not spec.get("drop"):
        announce(CLOSED, trade)
    return JSONResponse({"tid": trade["tid_str"], "status": "TRADE_CLOSED"})


async def change_address(request: Request) -> Response:
    """The buyer changes the receiver: {"name", "detail"}; announced on the queue."""
    trade = STORE.trades.get(request.path_params["tid"])
    if trade is None:
        return JSONResponse({"error": "no such trade"}, 404)
    spec = await request.json()
    trade.update(receiver_name=str(spec["name"]), receiver_address=str(spec["detail"]))
    trade["modified"] = _now()
    announce(ADDRESS_CHANGED, trade)
    return JSONResponse({"tid": trade["tid_str"]})


async def messages(request: Request) -> Response:
    return JSONResponse({"sent": STORE.sent, "confirmed": STORE.confirmed})


def _error(code: int, msg: str, sub_code: str = "") -> JSONResponse:
    return JSONResponse({"error_response": {"code": code, "msg": msg, "sub_code": sub_code}})


def gateway(params: dict[str, str]) -> Response:
    """The trade and message-queue calls of TOP's gateway, signed as every call is (the queue's
    are the app's: no session)."""
    given = params.pop("sign", "")
    method = params.get("sign_method", "md5")
    queue_call = params["method"] in (CONSUME, CONFIRM)
    if not queue_call and params.get("session") != ACCESS_TOKEN:
        return _error(27, "Invalid session", "invalid-sessionkey")
    if given != sign(params, APP_SECRET, b"", method):
        return _error(25, "Invalid signature")
    if params["method"] == CONSUME:
        return _consume(min(int(params.get("quantity", 100)), 200))
    if params["method"] == CONFIRM:
        for message_id in filter(None, params.get("s_message_ids", "").split(",")):
            STORE.confirmed += STORE.queue.pop(int(message_id), None) is not None
        return JSONResponse({"tmc_messages_confirm_response": {"is_success": True}})
    if params["method"] == DETAIL:
        trade = STORE.trades.get(params.get("tid", ""))
        if trade is None:
            return _error(15, "Remote service error", "isv.trade-not-exist")
        return JSONResponse({"trade_fullinfo_get_response": {"trade": trade}})
    low, high = _at(params["start_modified"]), _at(params["end_modified"])
    if not 0 <= high - low <= MAX_WINDOW_S:
        return _error(41, "Invalid arguments", "isv.invalid-parameter:start_modified")
    page, size = int(params.get("page_no", 1)), min(int(params.get("page_size", 40)), 100)
    modified = [
        t for tid, t in STORE.trades.items()
        if tid not in STORE.unlisted and low <= _at(t["modified"]) <= high
    ]  # fmt: skip
    found = sorted(modified, key=lambda t: (_at(t["modified"]), t["tid_str"]))
    chunk = found[(page - 1) * size : page * size]
    return JSONResponse(
        {"trades_sold_increment_get_response": {
            "total_results": len(found), "has_next": page * size < len(found),
            "trades": {"trade": chunk}}}
    )  # fmt: skip


def _consume(quantity: int) -> Response:
    """The oldest messages not confirmed, and not delivered within the last redeliver_s."""
    now, wait = time.monotonic(), STORE.redeliver_s
    due = [
        message for message_id, message in STORE.queue.items()
        if now - STORE.consumed_at.get(message_id, now - wait) >= wait
    ][:quantity]  # fmt: skip
    for message in due:
        STORE.consumed_at[message["id"]] = now
    answer: dict[str, Any] = {"messages": {"tmc_message": due}} if due else {}
    return JSONResponse({"tmc_messages_consume_response": answer})


def _at(text: str) -> float:
    moment = parse_china_time(text)
    return moment.timestamp() if moment else time.time()
