"""No log line of the running order-review service carries a buyer's name, phone or address:
orders with them in every text field, accepted, refused by validation, and an event whose
handler fails until it is dead-lettered."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from lvyue.cli.embedded import EmbeddedBroker
from lvyue.common.events import Envelope
from lvyue.common.events.catalog import INVENTORY_RESERVED
from lvyue.common.kafka import make_producer
from lvyue.order_review.main import build_app
from lvyue.order_review.settings import OrderReviewSettings
from tests.conftest import DATA, WEBHOOK_SECRET
from tests.support.apps import serve
from tests.support.inventory import publish
from tests.support.logs import configured, json_lines
from tests.support.polling import eventually
from tests.support.webhooks import lvyue_headers

NAME = "欧阳娜娜"
PHONE = "13912345678"
ADDRESS = "上海市浦东新区世纪大道88号金茂大厦5201室"
EN_ADDRESS = "1600 Amphitheatre Parkway"
PII = f"{NAME} {PHONE} {ADDRESS}"  # fits the 64-character fields
# What must not appear, whole or in telling pieces.
SECRETS = (NAME, PHONE, ADDRESS, "世纪大道", "金茂大厦", EN_ADDRESS, "Amphitheatre")


WEBHOOK = "/webhooks/lvyue/orders"


def _signed(body: bytes) -> dict[str, str]:
    return lvyue_headers(body, WEBHOOK_SECRET)


def _order(**changes: Any) -> dict[str, Any]:
    order: dict[str, Any] = json.loads((DATA / "lvyue_order.json").read_text(encoding="utf-8"))
    order |= {"platform": "lvyue", "platform_order_id": uuid.uuid4().hex[:16]}
    order |= {"buyer_nick": PII, "remarks": f"{PII} {EN_ADDRESS}"}
    order["receiver"]["name"] = PII
    order["receiver"]["phone"] = PHONE
    order["receiver"]["address"] |= dict.fromkeys(
        ("province", "city", "district", "street", "detail"), PII
    )
    for line in order["lines"]:
        line["name"] = PII
    return order | changes


async def test_no_log_line_carries_a_name_phone_or_address(
    make_settings: Callable[..., OrderReviewSettings],
    broker: EmbeddedBroker,
    topic_prefix: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    producer: AIOKafkaProducer = make_producer(broker.bootstrap_servers, idempotent=False)
    captured: list[str] = []

    async def logged(event: str) -> bool:
        captured.append(capsys.readouterr().err)  # reading drains: keep it for the check
        return any(event in chunk for chunk in captured)

    with configured(json=True, level="DEBUG", service="order-review"):
        async with serve(build_app(make_settings(consumer_max_attempts=2))) as client:
            await producer.start()
            try:
                body = json.dumps(_order(), ensure_ascii=False).encode()
                accepted = await client.post(
                    "/webhooks/lvyue/orders",
                    content=body,
                    headers=lvyue_headers(body, WEBHOOK_SECRET),
                )
                assert accepted.status_code in (200, 201, 202), accepted.text
                bad = json.dumps(_order(paid_at=PII), ensure_ascii=False).encode()
                refused = await client.post(
                    "/webhooks/lvyue/orders",
                    content=bad,
                    headers=lvyue_headers(bad, WEBHOOK_SECRET),
                )
                assert refused.status_code == 422, refused.text
                # An answer from inventory that its handler cannot read: retried, dead-lettered.
                poison = Envelope(
                    id=uuid.uuid4(),
                    type=INVENTORY_RESERVED.ce_type,
                    source="/lvyue/inventory",
                    subject=str(uuid.uuid4()),
                    time=datetime.now(UTC),
                    dataschema=INVENTORY_RESERVED.dataschema,
                    data={"order_id": PII, "receiver": {"name": NAME, "address": ADDRESS}},
                )
                await publish(producer, topic_prefix, poison)
                await eventually(lambda: logged("message_dead_lettered"), bool, timeout_s=30)
            finally:
                await producer.stop()
    captured.append(capsys.readouterr().err)
    lines = json_lines("".join(captured))
    events = {line["event"] for line in lines}
    assert "message_dead_lettered" in events
    assert any("validation error" in json.dumps(line) for line in lines), events
    for line in lines:
        text = json.dumps(line, ensure_ascii=False)
        for secret in SECRETS:
            assert secret not in text, (secret, text)
