"""Signing webhooks the way the platforms do, for tests and the demo."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent.parent / "data"
CHINA = timezone(timedelta(hours=8))
JSON = {"Content-Type": "application/json"}

# Platforms whose orders the tests post in the lvyue format (the sample is a Taobao order).
RELAYED = ("taobao", "jd", "pinduoduo", "douyin", "shopify")


def shopify_sample() -> bytes:
    return (DATA / "shopify_orders_create.json").read_bytes()


def canonical_sample() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "lvyue_order.json").read_text())
    return data


def shopify_headers(body: bytes, secret: str, *, webhook_id: str | None = None) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Shop-Domain": "lvyue-test.myshopify.com",
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
    }


def lvyue_headers(
    body: bytes, secret: str, *, delivery: str | None = None, timestamp: int | None = None
) -> dict[str, str]:
    ts = str(timestamp if timestamp is not None else int(time.time()))
    digest = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Lvyue-Timestamp": ts,
        "X-Lvyue-Signature": f"sha256={digest}",
        "X-Lvyue-Delivery": delivery or str(uuid.uuid4()),
    }


def order_sample(platform: str) -> bytes:
    """The sample order body for a platform slug (taobao, jd, pinduoduo, douyin)."""
    return (DATA / f"{platform}_order.json").read_bytes()


# Taobao, JD and Pinduoduo sign URL query parameters: their helpers return (query, headers).
# The rules are written out from the platforms' documents, independently of the adapters.


def _md5_sign(secret: str, params: dict[str, str], tail: str = "") -> str:
    """HEX_UPPER(md5(secret + name+value of each parameter sorted by name + tail + secret))."""
    text = secret + "".join(name + params[name] for name in sorted(params)) + tail + secret
    return hashlib.md5(text.encode()).hexdigest().upper()


def _china_now(at: datetime | None) -> str:
    return (at or datetime.now(CHINA)).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def taobao_request(
    body: bytes, secret: str, app_key: str, *, at: datetime | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """A TOP SPI request, sign_method md5: the body is signed after the parameters."""
    query = {
        "app_key": app_key,
        "method": "taobao.trade.fullinfo.get",
        "timestamp": _china_now(at),
        "format": "json",
        "v": "2.0",
        "sign_method": "md5",
    }
    return {**query, "sign": _md5_sign(secret, query, body.decode())}, dict(JSON)


def jd_request(
    body: bytes, secret: str, app_key: str, *, at: datetime | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """A JOS request: the body is signed as the parameter 360buy_param_json."""
    query = {
        "app_key": app_key,
        "method": "jingdong.pop.order.get",
        "timestamp": _china_now(at),
        "v": "2.0",
        "format": "json",
    }
    sign = _md5_sign(secret, {**query, "360buy_param_json": body.decode()})
    return {**query, "sign": sign}, dict(JSON)


def pinduoduo_request(
    body: bytes, secret: str, client_id: str, *, at: datetime | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """A Pinduoduo request: the body is signed after the parameters, as TOP's SPI does."""
    query = {
        "client_id": client_id,
        "type": "pdd.order.information.get",
        "timestamp": str(int((at or datetime.now(CHINA)).timestamp())),
        "data_type": "JSON",
        "version": "V1",
    }
    return {**query, "sign": _md5_sign(secret, query, body.decode())}, dict(JSON)


def douyin_headers(body: bytes, secret: str, app_id: str) -> dict[str, str]:
    """抖店's push: event-sign = hex md5(app key + body + app secret)."""
    sign = hashlib.md5(f"{app_id}{body.decode()}{secret}".encode()).hexdigest()
    return {**JSON, "app-id": app_id, "event-sign": sign}
