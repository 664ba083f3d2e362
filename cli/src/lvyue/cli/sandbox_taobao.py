"""The sandbox's 淘宝 (Taobao) shop: trades a test or the demo creates, and the two TOP gateway
calls lvyue reconciles them with: taobao.trades.sold.increment.get (windows of at most a day,
has_next paging) and taobao.trade.fullinfo.get. No notifications: TOP's message service (TMC)
is not implemented by lvyue, so Taobao trades arrive only by pull.

Shapes follow platforms/taobao.py and pulls/taobao.py in order-review (which cite their
sources); every call's sign is checked. Control endpoints under /_sim/taobao:
    POST /_sim/taobao/trades   {"seller_nick", "count", "skus", "seed"} -> {"ids": [...]}
    POST /_sim/taobao/trades/{tid}/close   refunded before shipment: TRADE_CLOSED
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from lvyue.cli.sandbox_douyin import APP_SECRET
from lvyue.cli.sandbox_shopify import ACCESS_TOKEN
from lvyue.common.platform_signing import CHINA, china_time_text, parse_china_time, sign

INCREMENT = "taobao.trades.sold.increment.get"
DETAIL = "taobao.trade.fullinfo.get"
ORDER_METHODS = frozenset({INCREMENT, DETAIL})
MAX_WINDOW_S = 24 * 3600


@dataclass
class TaobaoStore:
    trades: dict[str, dict[str, Any]] = field(default_factory=dict)


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


async def create_trades(request: Request) -> Response:
    spec = await request.json()
    rng = random.Random(spec.get("seed", 1))
    made = [
        new_trade(rng, list(spec["skus"]), str(spec["seller_nick"]))
        for _ in range(int(spec["count"]))
    ]
    for trade in made:
        STORE.trades[trade["tid_str"]] = trade
    return JSONResponse({"ids": [t["tid_str"] for t in made]})


async def close_trade(request: Request) -> Response:
    trade = STORE.trades.get(request.path_params["tid"])
    if trade is None:
        return JSONResponse({"error": "no such trade"}, 404)
    trade.update(status="TRADE_CLOSED", modified=_now())
    return JSONResponse({"tid": trade["tid_str"], "status": "TRADE_CLOSED"})


def _error(code: int, msg: str, sub_code: str = "") -> JSONResponse:
    return JSONResponse({"error_response": {"code": code, "msg": msg, "sub_code": sub_code}})


def gateway(params: dict[str, str]) -> Response:
    """The two trade calls of TOP's gateway, signed as every call is."""
    given = params.pop("sign", "")
    method = params.get("sign_method", "md5")
    if params.get("session") != ACCESS_TOKEN:
        return _error(27, "Invalid session", "invalid-sessionkey")
    if given != sign(params, APP_SECRET, b"", method):
        return _error(25, "Invalid signature")
    if params["method"] == DETAIL:
        trade = STORE.trades.get(params.get("tid", ""))
        if trade is None:
            return _error(15, "Remote service error", "isv.trade-not-exist")
        return JSONResponse({"trade_fullinfo_get_response": {"trade": trade}})
    low, high = _at(params["start_modified"]), _at(params["end_modified"])
    if not 0 <= high - low <= MAX_WINDOW_S:
        return _error(41, "Invalid arguments", "isv.invalid-parameter:start_modified")
    page, size = int(params.get("page_no", 1)), min(int(params.get("page_size", 40)), 100)
    modified = [t for t in STORE.trades.values() if low <= _at(t["modified"]) <= high]
    found = sorted(modified, key=lambda t: (_at(t["modified"]), t["tid_str"]))
    chunk = found[(page - 1) * size : page * size]
    return JSONResponse(
        {"trades_sold_increment_get_response": {
            "total_results": len(found), "has_next": page * size < len(found),
            "trades": {"trade": chunk}}}
    )  # fmt: skip


def _at(text: str) -> float:
    moment = parse_china_time(text)
    return moment.timestamp() if moment else time.time()
