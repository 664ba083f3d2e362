"""Signing a demo webhook the way each platform does, with the services' own signing code.

Each function returns (query parameters, headers) for a POST of `body` to
/webhooks/{platform}/orders. The signatures come from lvyue.common.platform_signing (Taobao,
JD, Pinduoduo, Douyin), lvyue.common.security and the canonical adapter's signed_message: the
code order-review verifies with, so the demo and the services cannot drift apart.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from lvyue.common import platform_signing
from lvyue.common.security import sign_hmac_sha256
from lvyue.order_review.platforms.canonical import signed_message

JSON = {"Content-Type": "application/json"}
SHOPIFY_SHOP = "lvyue-demo.myshopify.com"
TAOBAO_APP_KEY = "12345678"
JD_APP_KEY = "jd-demo-app"
PDD_CLIENT_ID = "pdd-demo-client"
DOUYIN_APP_ID = "7000000000000000001"

Signed = tuple[dict[str, str], dict[str, str]]


def _china_now() -> str:
    return platform_signing.china_time_text(datetime.now(UTC))


def lvyue(body: bytes, secret: str) -> Signed:
    timestamp = str(int(time.time()))
    digest = sign_hmac_sha256(secret, signed_message(timestamp, body)).hex()
    return {}, {
        **JSON,
        "X-Lvyue-Timestamp": timestamp,
        "X-Lvyue-Signature": f"sha256={digest}",
        "X-Lvyue-Delivery": str(uuid.uuid4()),
    }


def shopify(body: bytes, secret: str) -> Signed:
    digest = base64.b64encode(sign_hmac_sha256(secret, body)).decode()
    return {}, {
        **JSON,
        "X-Shopify-Hmac-Sha256": digest,
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Shop-Domain": SHOPIFY_SHOP,
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
    }


def taobao(body: bytes, secret: str) -> Signed:
    """TOP SPI, sign_method md5: the body is signed after the sorted parameters."""
    query = {
        "app_key": TAOBAO_APP_KEY,
        "method": "taobao.trade.fullinfo.get",
        "timestamp": _china_now(),
        "format": "json",
        "v": "2.0",
        "sign_method": "md5",
    }
    return {**query, "sign": platform_signing.sign(query, secret, body, "md5")}, dict(JSON)


def jd(body: bytes, secret: str) -> Signed:
    """JOS: the body is signed as the parameter 360buy_param_json."""
    query = {
        "app_key": JD_APP_KEY,
        "method": "jingdong.pop.order.get",
        "timestamp": _china_now(),
        "v": "2.0",
        "format": "json",
    }
    sign = platform_signing.sign({**query, platform_signing.JOS_BODY_PARAM: body.decode()}, secret)
    return {**query, "sign": sign}, dict(JSON)


def pinduoduo(body: bytes, secret: str) -> Signed:
    query = {
        "client_id": PDD_CLIENT_ID,
        "type": "pdd.order.information.get",
        "timestamp": str(int(time.time())),
        "data_type": "JSON",
        "version": "V1",
    }
    return {**query, "sign": platform_signing.sign(query, secret, body)}, dict(JSON)


def douyin(body: bytes, secret: str) -> Signed:
    sign = platform_signing.douyin_event_sign(DOUYIN_APP_ID, secret, body)
    return {}, {**JSON, "app-id": DOUYIN_APP_ID, "event-sign": sign}


SIGNERS: dict[str, Callable[[bytes, str], Signed]] = {
    "lvyue": lvyue,
    "shopify": shopify,
    "taobao": taobao,
    "jd": jd,
    "pinduoduo": pinduoduo,
    "douyin": douyin,
}
