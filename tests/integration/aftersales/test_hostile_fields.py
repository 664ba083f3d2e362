"""Hostile values in an after-sale push's fields and headers, each signed as the platform signs
it, for a shipped order, through the real route, database and broker: quantities of thousands
of digits, unbounded ids and delivery ids, fen amounts of 40 digits, amounts in other scripts'
digits. Each is refused with a 422 naming the platform's field (or the header), and no case or
delivery is stored; before, they were 500s, a 409 quoting a wrong amount, or a case opened.

The classes of hostile body every webhook refuses are in tests/support/hostile.py (run by
test_platform_webhooks.py); this is the table of hostile *values*."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.aftersales.settings import AftersalesSettings
from lvyue.aftersales.tables import cases, webhook_deliveries
from lvyue.common.clock import ManualClock
from tests.conftest import WEBHOOK_SECRET
from tests.support.aftersales import (
    PLATFORM_SECRETS,
    Aftersales,
    aftersale_sample,
    order,
    platform_request,
    running,
    webhook_body,
    with_order_id,
)
from tests.support.hostile import raw_headers
from tests.support.webhooks import lvyue_headers

PLATFORMS = ("taobao", "jd", "pinduoduo", "douyin")
DIGITS_5000 = "9" * 5000  # int() refuses a string of over 4,300 digits
LONG_ID = "r" * 6000  # past PostgreSQL's 2,704-byte btree entry


@dataclass(frozen=True)
class HostileField:
    name: str
    path: str  # the field, dotted ("lines.0.x": a list index), as the 422 must name it
    value: Any
    named: str = ""  # what the 422 says when it is not the path (a list item is "x[0].y")


HOSTILE: dict[str, list[HostileField]] = {
    "taobao": [
        HostileField("quantity of 5000 digits", "refund.num", DIGITS_5000),
        HostileField("refund id of 6000 characters", "refund.refund_id", LONG_ID),
        HostileField("refund in Arabic-Indic digits", "refund.refund_fee", "١٦٨.٠٠"),
        HostileField("refund written 1_68", "refund.refund_fee", "1_68"),
    ],
    "jd": [
        HostileField("quantity of 5000 digits", "afsService.serviceCount", DIGITS_5000),
        HostileField("service id of 6000 characters", "afsService.afsServiceId", LONG_ID),
    ],
    "pinduoduo": [
        HostileField("quantity of 5000 digits", "refund_information_get_response.goods_number",
                     DIGITS_5000),
        HostileField("after-sale id of 6000 characters", "refund_information_get_response.id",
                     LONG_ID),
        HostileField("refund of 40 digits of fen",
                     "refund_information_get_response.refund_amount", "9" * 40),
    ],
    "douyin": [
        HostileField("quantity of 5000 digits", "order_info.sku_order_infos.0.item_quantity",
                     DIGITS_5000, named="order_info.sku_order_infos[0].item_quantity"),
        HostileField("after-sale id of 6000 characters", "aftersale_info.aftersale_id", LONG_ID),
        HostileField("refund of 40 digits of fen", "aftersale_info.refund_amount", "9" * 40),
    ],
}  # fmt: skip


def _changed(body: dict[str, Any], path: str, value: Any) -> bytes:
    data: dict[str, Any] = json.loads(json.dumps(body))
    *parents, last = path.split(".")
    node: Any = data
    for name in parents:
        node = node[int(name)] if isinstance(node, list) else node[name]
    node[int(last) if isinstance(node, list) else last] = value
    return json.dumps(data, ensure_ascii=False).encode()


async def _stored(engine: AsyncEngine) -> tuple[int, int]:
    async with engine.connect() as conn:
        found = [
            (await conn.execute(select(func.count()).select_from(table))).scalar_one()
            for table in (cases, webhook_deliveries)
        ]
    return found[0], found[1]


@pytest.fixture
async def platforms_app(
    make_aftersales_settings: Callable[..., AftersalesSettings],
) -> AsyncIterator[Aftersales]:
    settings = make_aftersales_settings(webhook_secrets=PLATFORM_SECRETS)
    async with running(settings, ManualClock(datetime.now(UTC))) as app:
        yield app


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_hostile_fields_are_refused_naming_the_field_and_store_nothing(
    platforms_app: Aftersales, aftersales_engine: AsyncEngine, platform: str
) -> None:
    """For a shipped order, so that nothing but the field itself can refuse the push."""
    placed = order(platform=platform).model_copy(
        update={"platform_order_id": str(uuid.uuid4().int)[:19]}
    )
    await platforms_app.shipped_order(placed)
    good = with_order_id(platform, aftersale_sample(platform), placed.platform_order_id, 7)
    answers = {}
    for case in HOSTILE[platform]:
        body = _changed(good, case.path, case.value)
        query, headers = platform_request(platform, body, at=platforms_app.clock.now())
        response = await platforms_app.client.post(
            f"/webhooks/{platform}/aftersales", params=query, content=body, headers=headers
        )
        answers[case.name] = (response.status_code, response.text)
    for case in HOSTILE[platform]:
        status, text = answers[case.name]
        named = ["body", *(case.named or case.path).split(".")]
        assert status == 422, (case.name, text[:400])
        assert named in [error["loc"] for error in json.loads(text)["errors"]], (case.name, text)
    assert await _stored(aftersales_engine) == (0, 0)


@pytest.mark.parametrize(
    ("delivery", "says"),
    [
        pytest.param("d" * 6000, "1 to 128 printable ASCII", id="6000-characters"),
        pytest.param("小".encode(), "U+00E5 is not printable ASCII", id="raw-utf-8-bytes"),
        pytest.param("d\u007f", "U+007F", id="a-control-character"),
    ],
)
async def test_a_hostile_delivery_id_is_refused_naming_the_header(
    platforms_app: Aftersales, aftersales_engine: AsyncEngine, delivery: str | bytes, says: str
) -> None:
    _, placed = await platforms_app.shipped_order()
    body = json.dumps(webhook_body(placed, "refund_only")).encode()
    stamp = int(platforms_app.clock.now().timestamp())
    headers: dict[str, str | bytes] = {**lvyue_headers(body, WEBHOOK_SECRET, timestamp=stamp)}
    headers["X-Lvyue-Delivery"] = delivery  # a header's raw bytes, as a client may send them
    refused = await platforms_app.client.post(
        "/webhooks/lvyue/aftersales", content=body, headers=raw_headers(headers)
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["loc"] == ["header", "X-Lvyue-Delivery"]
    assert says in refused.text
    assert await _stored(aftersales_engine) == (0, 0)
    taken = await platforms_app.webhook(webhook_body(placed, "refund_only"), delivery="d" * 128)
    assert taken.status_code == 201, taken.text  # 128 printable characters: the longest id
