"""Douyin shop (抖店开放平台): order.logisticsAdd, 订单发货.

Documented request (op.jinritemai.com API order.logisticsAdd; its SDKs'
OrderLogisticsAddRequest): POST https://openapi-fxg.jinritemai.com/order/logisticsAdd (the
method's dots become the path) with the common parameters in the query
    app_key, method=order.logisticsAdd, access_token, timestamp (unix seconds), v=2,
    sign_method=md5, sign
and the business parameters as the JSON body, keys sorted, no spaces (`param_json`):
    {"company_code": "<抖店's carrier code>", "logistics_code": "<tracking no.>",
     "order_id": "<the parent order id>"}
sign = hex md5(app_secret + "app_key"+app_key + "method"+method + "param_json"+param_json
+ "timestamp"+timestamp + "v"+v + app_secret) (抖店 签名算法, sign_method md5).
company_code values come from order.logisticsCompanyList ("shunfeng", "zhongtong", ...);
CARRIER_CODES maps lvyue's codes, anything else passes through.

Answer: {"code": 10000, "msg": "success", "data": {...}} on success. code 20000 (系统错误,
isp.service-error:*) and the business failures the docs answer with "系统繁忙，请稍后重试"
are retried; parameter errors (40xxx), auth errors and the other business failures (order
cancelled, already shipped, bad tracking number) are the caller's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import httpx

from lvyue.common.platform_signing import (
    DOUYIN_API_VERSION,
    douyin_api_sign,
    douyin_param_json,
    unix_seconds,
)
from lvyue.fulfilment.settings import PlatformApi

from .base import Outcome, SingleCallAdapter, TrackingPush, read_answer, require

METHOD = "order.logisticsAdd"
PATH = "/order/logisticsAdd"
SUCCESS = 10000
SYSTEM_ERROR = 20000
BUSY_SUB_CODES = frozenset(
    f"isv.business-failed:{n}" for n in (60114, 60121, 60125, 70009, 120018, 120032)
)
CARRIER_CODES: Mapping[str, str] = {
    "SF": "shunfeng",
    "ZTO": "zhongtong",
    "YTO": "yuantong",
    "STO": "shentong",
    "YUNDA": "yunda",
    "EMS": "ems",
    "JD": "jd",
    "DBL": "debangwuliu",
}


class DouyinAdapter(SingleCallAdapter):
    name = "douyin"

    def __init__(self, carrier_codes: Mapping[str, str] | None = None) -> None:
        self.carrier_codes = {**CARRIER_CODES, **(carrier_codes or {})}

    def build_request(
        self, push: TrackingPush, api: PlatformApi, *, now: datetime
    ) -> httpx.Request:
        app_key = require(api.app_key, "app_key")
        body = douyin_param_json(
            {
                "order_id": push.platform_order_id,
                "company_code": self.carrier_codes.get(push.carrier_code, push.carrier_code),
                "logistics_code": push.tracking_number,
            }
        )
        timestamp = unix_seconds(now)
        query = {
            "app_key": app_key,
            "method": METHOD,
            "access_token": require(api.access_token, "access_token"),
            "timestamp": timestamp,
            "v": DOUYIN_API_VERSION,
            "sign_method": "md5",
            "sign": douyin_api_sign(
                app_key, require(api.app_secret, "app_secret"), METHOD, body, timestamp, "md5"
            ),
        }
        url = str(api.base_url).rstrip("/") + PATH
        return httpx.Request(
            "POST",
            url,
            params=query,
            content=body.encode(),
            headers={"Content-Type": "application/json"},
        )

    def classify(self, response: httpx.Response) -> Outcome:
        body = read_answer(response)
        if isinstance(body, Outcome):
            return body
        status = response.status_code
        code, sub_code = body.get("code"), str(body.get("sub_code") or "")
        if code == SUCCESS:
            return Outcome.synced(status)
        text = f"抖店 error {code} {body.get('msg', '')} {sub_code} {body.get('sub_msg', '')}"
        if code == SYSTEM_ERROR or sub_code in BUSY_SUB_CODES:
            return Outcome.retry(text, status)
        return Outcome.permanent(text, status)
