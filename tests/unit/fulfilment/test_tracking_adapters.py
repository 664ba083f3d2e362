"""Tracking adapters: each builds its platform's documented request and reads its answers.

Signatures are recomputed here from the platforms' written rules, independently of the code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from lvyue.fulfilment.settings import PlatformApi
from lvyue.fulfilment.tracking.platforms import OutcomeKind, TrackingPush
from lvyue.fulfilment.tracking.platforms.canonical import CanonicalAdapter
from lvyue.fulfilment.tracking.platforms.douyin import DouyinAdapter
from lvyue.fulfilment.tracking.platforms.jd import JdAdapter
from lvyue.fulfilment.tracking.platforms.pinduoduo import PinduoduoAdapter
from lvyue.fulfilment.tracking.platforms.shopify import (
    ShopifyAdapter,
    classify_created,
    open_fulfillment_orders,
)
from lvyue.fulfilment.tracking.platforms.taobao import TaobaoAdapter

NOW = datetime(2026, 11, 20, 2, 0, 5, tzinfo=UTC)  # 10:00:05 in Shanghai
CHINA_NOW = "2026-11-20 10:00:05"
UNIX_NOW = str(int(NOW.timestamp()))
SECRET = "s3cret"
API = PlatformApi(
    base_url="https://gw.example.com/router", app_key="key-1", app_secret=SECRET, access_token="tok"
)
PUSH = TrackingPush(
    shipment_id=uuid.UUID("00000000-0000-4000-8000-000000000001"),
    order_id=uuid.UUID("00000000-0000-4000-8000-000000000002"),
    platform="taobao",
    shop_id="shop-1",
    platform_order_id="3512345678901234567",
    carrier_code="SF",
    tracking_number="SF1234567890",
    dispatched_at=datetime(2026, 11, 20, 1, 30, tzinfo=UTC),
)


def md5_upper(params: dict[str, str], secret: str = SECRET) -> str:
    text = secret + "".join(k + params[k] for k in sorted(params) if k != "sign") + secret
    return hashlib.md5(text.encode()).hexdigest().upper()


def form(request: httpx.Request) -> dict[str, str]:
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    return dict(parse_qsl(request.content.decode()))


def no_call(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no request expected, got {request.method} {request.url}")


def answer(status: int, body: Any = None, **headers: str) -> httpx.Response:
    content = b"" if body is None else json.dumps(body).encode()
    return httpx.Response(status, content=content, headers=headers)


# --- Taobao (TOP) ---------------------------------------------------------------------------


def test_taobao_sends_logistics_offline_send_signed_with_md5() -> None:
    request = TaobaoAdapter().build_request(PUSH, API, now=NOW)
    assert (request.method, str(request.url)) == ("POST", "https://gw.example.com/router")
    params = form(request)
    assert params == {
        "method": "taobao.logistics.offline.send",
        "app_key": "key-1",
        "session": "tok",
        "timestamp": CHINA_NOW,
        "format": "json",
        "v": "2.0",
        "sign_method": "md5",
        "tid": "3512345678901234567",
        "out_sid": "SF1234567890",
        "company_code": "SF",
        "sign": md5_upper(params),
    }


TAOBAO_OK = {"logistics_offline_send_response": {"shipping": {"is_success": True}}}
TAOBAO_NO = {"logistics_offline_send_response": {"shipping": {"is_success": False}}}


def top_error(code: int, sub_code: str = "") -> dict[str, Any]:
    return {"error_response": {"code": code, "msg": "m", "sub_code": sub_code}}


@pytest.mark.parametrize(
    ("response", "kind"),
    [
        (answer(200, TAOBAO_OK), "synced"),
        (answer(200, top_error(7)), "retry"),  # App Call Limited
        (answer(200, top_error(15, "isp.remote-service-timeout")), "retry"),
        (answer(200, top_error(27)), "permanent"),  # Invalid session
        (answer(200, top_error(15, "isv.logistics-offline-service-error:B04")), "permanent"),
        (answer(200, TAOBAO_NO), "permanent"),
        (answer(503, {"error": "down"}), "retry"),
        (answer(200, "<html>gateway</html>"), "retry"),
    ],
)
def test_taobao_classifies_answers(response: httpx.Response, kind: str) -> None:
    assert TaobaoAdapter().classify(response).kind == kind


# --- JD (JOS) -------------------------------------------------------------------------------


def test_jd_sends_pop_order_shipment_with_its_carrier_id() -> None:
    request = JdAdapter().build_request(PUSH, API, now=NOW)
    assert (request.method, str(request.url)) == ("POST", "https://gw.example.com/router")
    params = form(request)
    assert json.loads(params.pop("360buy_param_json")) == {
        "orderId": 3512345678901234567,
        "logiCoprId": "467",
        "logiNo": "SF1234567890",
    }
    assert {k: v for k, v in params.items() if k != "sign"} == {
        "method": "jingdong.pop.order.shipment",
        "app_key": "key-1",
        "access_token": "tok",
        "timestamp": CHINA_NOW,
        "v": "2.0",
        "format": "json",
    }
    signed = form(request)
    assert signed["sign"] == md5_upper(signed)


async def test_jd_refuses_a_carrier_without_id_before_calling() -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(no_call)) as client:
        push = TrackingPush(**{**PUSH.__dict__, "carrier_code": "UNKNOWN-CO"})
        outcome = await JdAdapter().push(client, push, API, now=NOW)
    assert outcome.kind is OutcomeKind.PERMANENT
    assert "logiCoprId" in (outcome.error or "")


def jd_result(**result: Any) -> dict[str, Any]:
    return {"jingdong_pop_order_shipment_responce": {"code": "0", "sopjosshipment_result": result}}


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (jd_result(success=True), "synced"),
        (jd_result(success="false", chineseErrCode="订单已出库"), "permanent"),
        ({"error_response": {"code": "66", "zh_desc": "平台连接后端服务不可用"}}, "retry"),
        ({"error_response": {"code": "19", "zh_desc": "无效access_token"}}, "permanent"),
    ],
)
def test_jd_classifies_answers(body: dict[str, Any], kind: str) -> None:
    assert JdAdapter().classify(answer(200, body)).kind == kind


# --- Pinduoduo ------------------------------------------------------------------------------


def test_pinduoduo_sends_logistics_online_send_with_configured_logistics_id() -> None:
    adapter = PinduoduoAdapter({"SF": "44"})
    params = form(adapter.build_request(PUSH, API, now=NOW))
    assert params == {
        "type": "pdd.logistics.online.send",
        "client_id": "key-1",
        "access_token": "tok",
        "timestamp": UNIX_NOW,
        "data_type": "JSON",
        "version": "V1",
        "order_sn": "3512345678901234567",
        "logistics_id": "44",
        "tracking_number": "SF1234567890",
        "sign": md5_upper(params),
    }


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"logistics_online_send_response": {"is_success": True}}, "synced"),
        ({"error_response": {"error_code": 70031, "error_msg": "调用过于频繁"}}, "retry"),
        ({"error_response": {"error_code": 50000, "error_msg": "系统内部错误"}}, "retry"),
        ({"error_response": {"error_code": 10019, "error_msg": "access_token已过期"}}, "permanent"),
    ],
)
def test_pinduoduo_classifies_answers(body: dict[str, Any], kind: str) -> None:
    assert PinduoduoAdapter().classify(answer(200, body)).kind == kind


# --- Douyin (抖店) ---------------------------------------------------------------------------


def test_douyin_posts_param_json_to_the_method_path_signed() -> None:
    request = DouyinAdapter().build_request(PUSH, API, now=NOW)
    assert request.method == "POST"
    assert request.url.path == "/router/order/logisticsAdd"
    body = request.content.decode()
    assert body == (
        '{"company_code":"shunfeng","logistics_code":"SF1234567890",'
        '"order_id":"3512345678901234567"}'
    )
    query = dict(request.url.params)
    signed = f"app_keykey-1methodorder.logisticsAddparam_json{body}timestamp{UNIX_NOW}v2"
    text = SECRET + signed + SECRET
    assert query == {
        "app_key": "key-1",
        "method": "order.logisticsAdd",
        "access_token": "tok",
        "timestamp": UNIX_NOW,
        "v": "2",
        "sign_method": "md5",
        "sign": hashlib.md5(text.encode()).hexdigest(),
    }


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"code": 10000, "msg": "success", "data": {}}, "synced"),
        ({"code": 20000, "msg": "系统错误", "sub_code": "isp.service-error:10005"}, "retry"),
        ({"code": 50002, "sub_code": "isv.business-failed:70009"}, "retry"),  # 系统繁忙
        ({"code": 50002, "sub_code": "isv.business-failed:60021"}, "permanent"),  # 订单已取消
        ({"code": 40004, "sub_code": "isv.parameter-invalid:50049"}, "permanent"),
    ],
)
def test_douyin_classifies_answers(body: dict[str, Any], kind: str) -> None:
    assert DouyinAdapter().classify(answer(200, body)).kind == kind


# --- Shopify --------------------------------------------------------------------------------

SHOPIFY = PlatformApi(base_url="https://lvyue-test.myshopify.com", access_token="shpat_x")


def test_shopify_looks_up_fulfillment_orders_then_creates_a_fulfillment() -> None:
    adapter = ShopifyAdapter()
    lookup = adapter.fulfillment_orders_request(PUSH, SHOPIFY)
    assert (lookup.method, str(lookup.url)) == (
        "GET",
        "https://lvyue-test.myshopify.com/admin/api/2025-01/orders/3512345678901234567/"
        "fulfillment_orders.json",
    )
    assert lookup.headers["x-shopify-access-token"] == "shpat_x"
    create = adapter.fulfillment_request(PUSH, SHOPIFY, [1046000778])
    assert (create.method, str(create.url)) == (
        "POST",
        "https://lvyue-test.myshopify.com/admin/api/2025-01/fulfillments.json",
    )
    assert create.headers["x-shopify-access-token"] == "shpat_x"
    assert json.loads(create.content) == {
        "fulfillment": {
            "line_items_by_fulfillment_order": [{"fulfillment_order_id": 1046000778}],
            "tracking_info": {"number": "SF1234567890", "company": "SF Express"},
            "notify_customer": True,
        }
    }


async def test_shopify_push_makes_both_calls() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "GET":
            orders = [{"id": 1, "status": "closed"}, {"id": 2, "status": "open"}]
            return answer(200, {"fulfillment_orders": orders})
        return answer(201, {"fulfillment": {"id": 9, "status": "success"}})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        outcome = await ShopifyAdapter().push(client, PUSH, SHOPIFY, now=NOW)
    assert outcome.kind is OutcomeKind.SYNCED
    assert [r.method for r in seen] == ["GET", "POST"]
    body = json.loads(seen[1].content)["fulfillment"]
    assert body["line_items_by_fulfillment_order"] == [{"fulfillment_order_id": 2}]


def test_shopify_without_open_fulfillment_order_is_permanent() -> None:
    found: list[int] = []
    response = answer(200, {"fulfillment_orders": [{"id": 1, "status": "closed"}]})
    outcome = open_fulfillment_orders(response, found)
    assert (outcome.kind, found) == (OutcomeKind.PERMANENT, [])
    assert "closed" in (outcome.error or "")


@pytest.mark.parametrize(
    ("response", "kind"),
    [
        (answer(201, {"fulfillment": {"status": "success"}}), "synced"),
        (answer(429, {"errors": "Exceeded 2 calls per second"}, **{"Retry-After": "2"}), "retry"),
        (answer(422, {"errors": ["Invalid fulfillment order line item quantity"]}), "permanent"),
        (answer(401, {"errors": "Invalid API key or access token"}), "permanent"),
        (answer(502), "retry"),
    ],
)
def test_shopify_classifies_answers(response: httpx.Response, kind: str) -> None:
    outcome = classify_created(response)
    assert outcome.kind == kind
    if response.status_code == 429:
        assert outcome.retry_after_s == 2.0


# --- lvyue canonical ------------------------------------------------------------------------

CANONICAL = PlatformApi(base_url="https://erp.example.com/hooks", app_secret=SECRET)


def test_canonical_posts_json_signed_like_our_webhooks() -> None:
    request = CanonicalAdapter().build_request(PUSH, CANONICAL, now=NOW)
    assert (request.method, str(request.url)) == ("POST", "https://erp.example.com/hooks/shipments")
    assert json.loads(request.content) == {
        "order_id": "3512345678901234567",
        "carrier_code": "SF",
        "tracking_number": "SF1234567890",
        "dispatched_at": "2026-11-20T01:30:00+00:00",
        "shop_id": "shop-1",
        "shipment_id": str(PUSH.shipment_id),
        "lvyue_order_id": str(PUSH.order_id),
    }
    assert request.headers["x-lvyue-timestamp"] == UNIX_NOW
    assert request.headers["x-lvyue-delivery"] == str(PUSH.shipment_id)
    digest = hmac.new(SECRET.encode(), f"{UNIX_NOW}.".encode() + request.content, hashlib.sha256)
    assert request.headers["x-lvyue-signature"] == f"sha256={digest.hexdigest()}"


@pytest.mark.parametrize(
    ("status", "kind"),
    [(200, "synced"), (204, "synced"), (400, "permanent"), (404, "permanent"), (408, "retry"),
     (429, "retry"), (500, "retry"), (503, "retry")],
)  # fmt: skip
def test_canonical_classifies_by_status(status: int, kind: str) -> None:
    assert CanonicalAdapter().classify(answer(status)).kind == kind
