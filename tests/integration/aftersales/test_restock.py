"""A return reaches inventory over the real broker: sellable goods go back on hand."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from lvyue.aftersales.settings import AftersalesSettings
from lvyue.cli.embedded import EmbeddedBroker
from lvyue.common.clock import ManualClock
from lvyue.common.events.catalog import ORDER_CREATED, OrderCreated
from lvyue.inventory.main import build_app as build_inventory
from tests.support.aftersales import TEA, order, running
from tests.support.apps import serve
from tests.support.inventory import OPS, WAREHOUSE, inventory_settings
from tests.support.polling import eventually
from tests.support.publish import publish


async def test_returned_sellable_goods_raise_on_hand_in_inventory(
    make_aftersales_settings: Callable[..., AftersalesSettings],
    inventory_db: str,
    broker: EmbeddedBroker,
    topic_prefix: str,
) -> None:
    inventory = build_inventory(
        inventory_settings(inventory_db, broker.bootstrap_servers, topic_prefix)
    )
    clock = ManualClock(datetime.now(UTC))
    async with serve(inventory) as stock, running(make_aftersales_settings(), clock) as aftersales:
        put = await stock.put(f"/skus/{WAREHOUSE}/{TEA}", json={}, headers=OPS)
        assert put.status_code == 201, put.text
        receipt = {"warehouse_id": WAREHOUSE, "sku": TEA, "quantity": 10, "reference": "init"}
        assert (await stock.post("/stock/receipts", json=receipt, headers=OPS)).status_code == 201

        async def tea() -> dict[str, int]:
            data: dict[str, int] = (await stock.get(f"/skus/{WAREHOUSE}/{TEA}", headers=OPS)).json()
            return data

        placed = order(((TEA, 3, "168.00"),), paid_total="504.00")
        order_id = uuid.uuid4()
        created = OrderCreated(order_id=order_id, received_at=clock.now(), order=placed)
        await publish(
            broker.bootstrap_servers, topic_prefix, ORDER_CREATED, created,
            subject=str(order_id), source="/lvyue/order-review",
        )  # fmt: skip
        await eventually(tea, lambda s: s["reserved"] == 3)
        await aftersales.announce(order_id, placed)  # reviewed, then shipped: inventory deducts
        await eventually(tea, lambda s: (s["on_hand"], s["reserved"]) == (7, 0))
        await aftersales.until_order(order_id, lambda o: o["shipped"])

        case_id = (await aftersales.open(order_id, "return_and_refund", lines=((TEA, 3),)))["id"]
        await aftersales.act(case_id, "approve")
        await aftersales.act(
            case_id,
            "return-received",
            {"lines": [
                {"sku": TEA, "quantity": 2, "sellable": True},
                {"sku": TEA, "quantity": 1, "sellable": False},  # crushed tin: written down
            ]},
        )  # fmt: skip
        restocked = await eventually(tea, lambda s: s["on_hand"] != 7)
        moves = (await stock.get(f"/stock/movements?order_id={order_id}", headers=OPS)).json()[
            "items"
        ]

    assert (restocked["on_hand"], restocked["reserved"]) == (9, 0)
    restocks = [m for m in moves if m["kind"] == "restock"]
    assert sorted(m["on_hand_delta"] for m in restocks) == [0, 2]
    assert all(case_id in m["reference"] for m in restocks)
