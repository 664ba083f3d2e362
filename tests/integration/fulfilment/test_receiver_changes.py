"""A receiver the buyer changed after review: a pending shipment's warehouse is told once (the
latest change wins, an older one redelivered changes nothing); a change that overtakes its
order.reviewed has the shipment requested to the new receiver; after dispatch nothing is sent."""

from __future__ import annotations

import uuid
from datetime import timedelta

from lvyue.common.events.catalog import ShipmentReceiverChanged, ShipmentRequested
from tests.integration.fulfilment.conftest import T0, StartFulfilment
from tests.support.fulfilment import WAREHOUSE, order_reviewed, receiver_changed
from tests.support.metrics import metric

CHANGES = "lvyue_fulfilment_receiver_changes_total"


async def test_a_pending_shipment_s_warehouse_is_told_the_latest_receiver_once(
    fulfilment: StartFulfilment,
) -> None:
    order_id = uuid.uuid4()
    stale = metric(CHANGES, outcome="stale")
    async with fulfilment() as f:
        await f.publish(order_reviewed(order_id, reviewed_at=T0))
        shipment = await f.shipment_for(order_id)
        await f.publish(receiver_changed(order_id, at=T0 + timedelta(minutes=5), detail="3号楼"))
        await f.publish(receiver_changed(order_id, at=T0 + timedelta(minutes=2), detail="旧门"))
        await f.wait_processed(3)
        told = await f.events("shipment.receiver_changed", 1)

    (event,) = told  # the older change, arriving later, told nobody
    assert event.subject == str(order_id)
    payload = event.payload(ShipmentReceiverChanged)
    assert (str(payload.shipment_id), payload.order_id) == (shipment["id"], order_id)
    assert payload.warehouse_id == WAREHOUSE
    assert payload.receiver.address.detail == "3号楼"
    assert payload.changed_at == T0 + timedelta(minutes=5)
    assert metric(CHANGES, outcome="stale") == stale + 1


async def test_a_change_that_overtakes_order_reviewed_is_the_receiver_requested(
    fulfilment: StartFulfilment,
) -> None:
    order_id = uuid.uuid4()
    async with fulfilment() as f:
        await f.publish(receiver_changed(order_id, at=T0 + timedelta(minutes=5), detail="3号楼"))
        await f.wait_processed(1)
        await f.publish(order_reviewed(order_id, reviewed_at=T0))
        await f.shipment_for(order_id)
        (requested,) = await f.events("shipment.requested", 1)
        told = await f.events("shipment.receiver_changed", 0, timeout_s=1.0)

    assert requested.payload(ShipmentRequested).receiver.address.detail == "3号楼"
    assert told == []  # nothing was requested when it came: nothing to correct


async def test_after_dispatch_a_change_is_counted_and_nothing_is_sent(
    fulfilment: StartFulfilment,
) -> None:
    order_id = uuid.uuid4()
    too_late = metric(CHANGES, outcome="too_late")
    async with fulfilment() as f:
        await f.publish(order_reviewed(order_id, reviewed_at=T0))
        shipment = await f.shipment_for(order_id)
        f.advance(hours=1)
        assert (await f.dispatch(shipment["id"])).status_code == 200
        await f.publish(receiver_changed(order_id, at=f.clock.now(), detail="3号楼"))
        await f.wait_processed(2)
        told = await f.events("shipment.receiver_changed", 0, timeout_s=1.0)

    assert told == []
    assert metric(CHANGES, outcome="too_late") == too_late + 1
