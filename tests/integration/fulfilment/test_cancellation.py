"""Cancellation: before dispatch the warehouse is told not to ship; after it nothing changes;
an order.cancelled that overtakes its order.reviewed leaves no shipment behind."""

from __future__ import annotations

import uuid
from datetime import timedelta

from lvyue.common.events.catalog import ShipmentCancelled
from tests.integration.fulfilment.conftest import T0, StartFulfilment
from tests.support.fulfilment import (
    WAREHOUSE,
    deadline_states,
    order_cancelled,
    order_reviewed,
)
from tests.support.inventory import OPS, WAREHOUSE_STAFF
from tests.support.metrics import metric

LATE = "lvyue_fulfilment_late_cancellations_total"


async def test_an_order_cancelled_before_dispatch_cancels_its_shipment_and_deadlines(
    fulfilment: StartFulfilment,
) -> None:
    order_id = uuid.uuid4()
    async with fulfilment() as f:
        await f.publish(order_reviewed(order_id, reviewed_at=T0))
        shipment = await f.shipment_for(order_id)
        f.advance(minutes=30)
        await f.publish(order_cancelled(order_id, at=f.clock.now(), reason="buyer changed mind"))
        view = await f.until_status(shipment["id"], "cancelled")
        [cancelled] = await f.events("shipment.cancelled", 1)
        states = await deadline_states(f.engine, order_id)
        dispatch = await f.dispatch(shipment["id"])
        again = await f.client.post(
            f"/shipments/{shipment['id']}/cancel", json={"reason": "again"}, headers=OPS
        )

    assert cancelled.subject == str(order_id)
    payload = cancelled.payload(ShipmentCancelled)
    assert (str(payload.shipment_id), payload.order_id) == (shipment["id"], order_id)
    assert (payload.warehouse_id, payload.reason) == (WAREHOUSE, "buyer changed mind")
    assert payload.cancelled_at == T0 + timedelta(minutes=30)
    assert view["cancel_reason"] == "buyer changed mind"
    assert states == {"outbound_24h": "cancelled", "dispatch_1600": "cancelled"}
    assert dispatch.status_code == 409
    assert dispatch.json()["state"] == "cancelled"
    assert dispatch.json()["type"] == "urn:lvyue:problem:conflict"
    assert again.status_code == 200  # cancelled already: the same answer, nothing new
    assert again.json()["cancel_reason"] == "buyer changed mind"


async def test_an_order_cancelled_after_dispatch_leaves_the_shipment_dispatched(
    fulfilment: StartFulfilment,
) -> None:
    order_id = uuid.uuid4()
    before = metric(LATE, warehouse=WAREHOUSE)
    async with fulfilment() as f:
        await f.publish(order_reviewed(order_id, reviewed_at=T0))
        shipment = await f.shipment_for(order_id)
        f.advance(hours=1)
        assert (await f.dispatch(shipment["id"])).status_code == 200
        # twice, under two event ids: still one late cancellation
        await f.publish(order_cancelled(order_id, at=f.clock.now()))
        await f.publish(order_cancelled(order_id, at=f.clock.now()))
        await f.wait_processed(3)
        view = await f.get(shipment["id"])
        refused = await f.client.post(
            f"/shipments/{shipment['id']}/cancel", json={"reason": "too late"}, headers=OPS
        )
        not_ops = await f.client.post(
            f"/shipments/{shipment['id']}/cancel", json={"reason": "x"}, headers=WAREHOUSE_STAFF
        )
        cancelled = await f.events("shipment.cancelled", 0, timeout_s=1.0)
        states = await deadline_states(f.engine, order_id)

    assert view["status"] == "dispatched"
    assert refused.status_code == 409
    problem = refused.json()
    assert (problem["state"], problem["tracking_number"]) == ("dispatched", "SF1234567890")
    assert "dispatched" in problem["detail"]
    assert not_ops.status_code == 403
    assert cancelled == []
    assert states == {"outbound_24h": "met", "dispatch_1600": "met"}
    assert metric(LATE, warehouse=WAREHOUSE) == before + 1


async def test_an_operator_can_cancel_a_pending_shipment(fulfilment: StartFulfilment) -> None:
    order_id = uuid.uuid4()
    async with fulfilment() as f:
        await f.publish(order_reviewed(order_id, reviewed_at=T0))
        shipment = await f.shipment_for(order_id)
        response = await f.client.post(
            f"/shipments/{shipment['id']}/cancel", json={"reason": "address fraud"}, headers=OPS
        )
        [cancelled] = await f.events("shipment.cancelled", 1)
        unknown = await f.client.post(
            f"/shipments/{uuid.uuid4()}/cancel", json={"reason": "x"}, headers=OPS
        )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert {d["state"] for d in response.json()["deadlines"]} == {"cancelled"}
    assert cancelled.payload(ShipmentCancelled).reason == "address fraud"
    assert unknown.status_code == 404


async def test_order_cancelled_arriving_before_order_reviewed_creates_no_shipment(
    fulfilment: StartFulfilment,
) -> None:
    order_id = uuid.uuid4()
    async with fulfilment() as f:
        await f.publish(order_cancelled(order_id, at=T0))
        await f.wait_processed(1)
        await f.publish(order_reviewed(order_id, reviewed_at=T0 - timedelta(minutes=1)))
        await f.wait_processed(2)
        page = await f.page(order_id=str(order_id))
        requested = await f.events("shipment.requested", 0, timeout_s=1.0)
        states = await deadline_states(f.engine, order_id)
    assert page["total"] == 0
    assert requested == []
    assert states == {}
