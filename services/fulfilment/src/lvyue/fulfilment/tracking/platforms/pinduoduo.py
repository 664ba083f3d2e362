"""Pinduoduo (拼多多开放平台): pdd.logistics.online.send, 订单发货通知.

Documented request (open.pinduoduo.com api pdd.logistics.online.send; the PDD SDKs'
PddLogisticsOnlineSendRequest): a form POST to the gateway (https://gw-api.pinduoduo.com/
api/router) with the common parameters
    type=pdd.logistics.online.send, client_id, access_token, timestamp (unix seconds),
    data_type=JSON, version=V1, sign
and the business parameters
    order_sn (the order number, e.g. "20150909-452750051"), logistics_id (the platform's
    numeric carrier id, from pdd.logistics.companies.get), tracking_number.
sign = HEX_UPPER(md5(client_secret + name+value of every parameter sorted by name +
client_secret)).

Pinduoduo's carrier ids are configured per deployment (no table we could check is public);
a numeric code passes through, anything else is refused before calling.

Answer: {"logistics_online_send_response": {"is_success": true}} on success, else
{"error_response": {"error_code", "error_msg", "sub_code", "sub_msg"}}; error codes 50000-59999
(the platform's side) and 70031 (called too often) are retried, the rest are the caller's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from lvyue.common.platform_signing import pdd_call_params
from lvyue.fulfilment.settings import PlatformApi

from .base import (
    ConfigError,
    Outcome,
    SingleCallAdapter,
    TrackingPush,
    read_answer,
    require,
)

METHOD = "pdd.logistics.online.send"
RESPONSE_KEY = "logistics_online_send_response"
RATE_LIMITED = 70031


class PinduoduoAdapter(SingleCallAdapter):
    name = "pinduoduo"

    def __init__(self, carrier_codes: Mapping[str, str] | None = None) -> None:
        self.carrier_codes = dict(carrier_codes or {})

    def logistics_id(self, carrier_code: str) -> str:
        found = self.carrier_codes.get(carrier_code, carrier_code)
        if not found.isdigit():
            raise ConfigError(f"no Pinduoduo logistics_id for carrier {carrier_code!r}")
        return found

    def build_request(
        self, push: TrackingPush, api: PlatformApi, *, now: datetime
    ) -> httpx.Request:
        business = {
            "order_sn": push.platform_order_id,
            "logistics_id": self.logistics_id(push.carrier_code),
            "tracking_number": push.tracking_number,
        }
        params = pdd_call_params(
            METHOD, business, client_id=require(api.app_key, "app_key (client_id)"),
            client_secret=require(api.app_secret, "app_secret"),
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
            code = _int(error.get("error_code"))
            text = f"PDD error {code} {error.get('error_msg', '')} {error.get('sub_msg', '')}"
            if 50000 <= code < 60000 or code == RATE_LIMITED:
                return Outcome.retry(text, status)
            return Outcome.permanent(text, status)
        result: Any = body.get(RESPONSE_KEY)
        if isinstance(result, dict) and str(result.get("is_success")).lower() == "true":
            return Outcome.synced(status)
        return Outcome.permanent(f"{RESPONSE_KEY}: not successful: {result}", status)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1
