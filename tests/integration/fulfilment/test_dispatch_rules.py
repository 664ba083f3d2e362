"""Dispatch confirmation edge cases: hooks share the dispatch's transaction; a confirmation
from the future is refused."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from lvyue.common.uow import UnitOfWork
from lvyue.fulfilment.repository import ShipmentRecord
from tests.integration.fulfilment.conftest import T0, StartFulfilment
from tests.support.fulfilment import order_reviewed


async def test_a_failing_dispatch_hook_rolls_the_dispatch_back(
    fulfilment: StartFulfilment,
) -> None:
    order_id = uuid.uuid4()

    async def broken(uow: UnitOfWork, shipment: ShipmentRecord) -> None:
        raise RuntimeError("tracking sync unavailable")

    async with fulfilment(dispatch_hooks=[broken]) as f:
        await f.publish(order_reviewed(order_id, reviewed_at=T0))
        shipment = await f.shipment_for(order_id)
        with pytest.raises(RuntimeError, match="tracking sync unavailable"):
            await f.dispatch(shipment["id"])
        view = await f.get(shipment["id"])
        shipped = await f.events("order.shipped", 0, timeout_s=1.0)
    assert view["status"] == "pending"
    assert {d["state"] for d in view["deadlines"]} == {"open"}
    assert shipped == []


async def test_a_future_dispatch_time_is_refused(fulfilment: StartFulfilment) -> None:
    order_id = uuid.uuid4()
    async with fulfilment() as f:
        await f.publish(order_reviewed(order_id, reviewed_at=T0))
        shipment = await f.shipment_for(order_id)
        future = await f.dispatch(shipment["id"], at=T0 + timedelta(hours=1))
        skewed = await f.dispatch(shipment["id"], at=T0 + timedelta(minutes=4))
    assert future.status_code == 422, future.text
    assert "in the future" in future.json()["detail"]
    assert skewed.status_code == 200, skewed.text
