"""Taobao/Tmall (淘宝开放平台 TOP): taobao.logistics.offline.send, 自己联系物流发货.

Documented request (TOP API docs; the SDKs' LogisticsOfflineSendRequest): a form POST to the
TOP gateway (e.g. https://eco.taobao.com/router/rest) with the system parameters
    method=taobao.logistics.offline.send, app_key, session (the seller's access token),
    timestamp ("yyyy-MM-dd HH:mm:ss", GMT+8), format=json, v=2.0, sign_method=md5, sign
and the business parameters
    tid (the trade id), out_sid (the tracking number), company_code (TOP's carrier code:
    SF, ZTO, YTO, STO, YUNDA, EMS, ... the same letters lvyue uses, so passed through).
sign = HEX_UPPER(md5(secret + name+value of every parameter sorted by name + secret)).

Answer: {"logistics_offline_send_response": {"shipping": {"is_success": true}}} on success,
else {"error_response": {"code", "msg", "sub_code", "sub_msg"}}. TOP's codes: 7 (App Call
Limited) and 10 (Service Currently Unavailable) and any isp.* sub-code (the platform's own
trouble) are retried; isv.* sub-codes and the other codes (invalid session, signature,
arguments, order state) are the caller's and will not pass by retrying.
alibaba.ascp.logistics.offline.send is TOP's newer variant (packages, sub-orders); whole-order
offline sends still go through this one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from lvyue.common.platform_signing import top_call_params
from lvyue.fulfilment.settings import PlatformApi

from .base import Outcome, SingleCallAdapter, TrackingPush, read_answer, require

METHOD = "taobao.logistics.offline.send"
RESPONSE_KEY = "logistics_offline_send_response"
RETRY_CODES = frozenset({7, 10})


class TaobaoAdapter(SingleCallAdapter):
    def __init__(self, name: str = "taobao", carrier_codes: Mapping[str, str] | None = None):
        self.name = name
        self.carrier_codes = dict(carrier_codes or {})

    def build_request(
        self, push: TrackingPush, api: PlatformApi, *, now: datetime
    ) -> httpx.Request:
        business = {
            "tid": push.platform_order_id,
            "out_sid": push.tracking_number,
            "company_code": self.carrier_codes.get(push.carrier_code, push.carrier_code),
        }
        params = top_call_params(
            METHOD, business, app_key=require(api.app_key, "app_key"),
            secret=require(api.app_secret, "app_secret"),
            session=require(api.access_token, "access_token (the seller's session)"), now=now,
        )  # fmt: skip
        return httpx.Request("POST", str(api.base_url), data=params)

    def classify(self, response: httpx.Response) -> Outcome:
        return classify_top(response, RESPONSE_KEY, ("shipping", "is_success"))


def classify_top(response: httpx.Response, key: str, flag: tuple[str, ...]) -> Outcome:
    """TOP-style answers (Taobao): {key: {...flag: true}} or {"error_response": {...}}."""
    body = read_answer(response)
    if isinstance(body, Outcome):
        return body
    status = response.status_code
    error = body.get("error_response")
    if isinstance(error, dict):
        return _top_error(error, status)
    value: Any = body.get(key)
    for part in flag:
        value = value.get(part) if isinstance(value, dict) else None
    if value is True or str(value).lower() == "true":
        return Outcome.synced(status)
    return Outcome.permanent(f"{key}: not successful: {body}", status)


def _top_error(error: Mapping[str, Any], status: int) -> Outcome:
    code, sub_code = error.get("code"), str(error.get("sub_code") or "")
    text = f"TOP error {code} {error.get('msg', '')} {sub_code} {error.get('sub_msg', '')}"
    try:
        numeric = int(code)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        numeric = -1
    if numeric in RETRY_CODES or sub_code.startswith("isp."):
        return Outcome.retry(text, status)
    return Outcome.permanent(text, status)
