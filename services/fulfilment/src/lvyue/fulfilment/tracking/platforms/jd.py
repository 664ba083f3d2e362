"""JD POP (京东开放平台 JOS): jingdong.pop.order.shipment, SOP 出库发货.

Documented request (JOS API docs apiId=1948; the JOS SDKs' PopOrderShipmentRequest): a form
POST to the JOS gateway (https://api.jd.com/routerjson) with the system parameters
    method=jingdong.pop.order.shipment, app_key, access_token, timestamp ("yyyy-MM-dd
    HH:mm:ss", GMT+8), v=2.0, format=json, sign
and the business parameters as one JSON object in `360buy_param_json`:
    {"orderId": <the order id>, "logiCoprId": "<JD's numeric carrier id>", "logiNo": "<no.>"}
sign = HEX_UPPER(md5(secret + name+value of every parameter sorted by name + secret)).

JD wants its own numeric carrier id, not a name: CARRIER_IDS maps lvyue's codes (ids as a
third-party JOS integration lists them; check them in 京麦 「我的配送」), a numeric code
passes through, anything else is refused before calling.

Answer: {"jingdong_pop_order_shipment_responce": {"code": "0", "sopjosshipment_result":
{"success": true, ...}}} (JOS spells it "responce"); errors come as {"error_response":
{"code", "zh_desc", "en_desc"}}: 43 (system error) and 65-67 (gateway could not reach or
timed out on the backend) are retried, the rest are the caller's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from lvyue.common.platform_signing import jos_call_params
from lvyue.fulfilment.settings import PlatformApi

from .base import (
    ConfigError,
    Outcome,
    SingleCallAdapter,
    TrackingPush,
    read_answer,
    require,
)

METHOD = "jingdong.pop.order.shipment"
RESPONSE_KEY = "jingdong_pop_order_shipment_responce"
RETRY_CODES = frozenset({"43", "65", "66", "67"})
CARRIER_IDS: Mapping[str, str] = {
    "SF": "467",
    "ZTO": "1499",
    "YTO": "463",
    "STO": "470",
    "YUNDA": "1327",
    "EMS": "465",
    "DBL": "3046",
    "JD": "2087",
}


class JdAdapter(SingleCallAdapter):
    name = "jd"

    def __init__(self, carrier_codes: Mapping[str, str] | None = None) -> None:
        self.carrier_codes = {**CARRIER_IDS, **(carrier_codes or {})}

    def carrier_id(self, carrier_code: str) -> str:
        found = self.carrier_codes.get(carrier_code, carrier_code)
        if not found.isdigit():
            raise ConfigError(f"no JD logiCoprId for carrier {carrier_code!r}")
        return found

    def build_request(
        self, push: TrackingPush, api: PlatformApi, *, now: datetime
    ) -> httpx.Request:
        order_id = push.platform_order_id
        business = {
            "orderId": int(order_id) if order_id.isdigit() else order_id,
            "logiCoprId": self.carrier_id(push.carrier_code),
            "logiNo": push.tracking_number,
        }
        params = jos_call_params(
            METHOD, business, app_key=require(api.app_key, "app_key"),
            secret=require(api.app_secret, "app_secret"),
            access_token=require(api.access_token, "access_token"), now=now,
        )  # fmt: skip
        return httpx.Request("POST", str(api.base_url), data=params)

    def classify(self, response: httpx.Response) -> Outcome:
        body = read_answer(response)
        if isinstance(body, Outcome):
            return body
        status = response.status_code
        error = body.get("error_response")
        if isinstance(error, dict):
            code = str(error.get("code", ""))
            text = f"JOS error {code} {error.get('zh_desc') or error.get('en_desc') or ''}"
            if code in RETRY_CODES:
                return Outcome.retry(text, status)
            return Outcome.permanent(text, status)
        result: Any = (body.get(RESPONSE_KEY) or {}).get("sopjosshipment_result")
        if isinstance(result, dict) and str(result.get("success")).lower() == "true":
            return Outcome.synced(status)
        return Outcome.permanent(f"shipment refused: {result}", status)
