"""Exchanges: aftersale.replacement_requested from the real broker becomes a second shipment of
an order already shipped, with its own deadlines, announced as aftersale.replacement_dispatched."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from lvyue.common.events.catalog import (
    Priority,
    ReplacementDispatched,
    ReplacementRequested,
    ShipmentCancelled,
    ShipmentRequested,
    SlaBreached,
)
from lvyue.fulfilment.tracking.tables import tracking_syncs
from tests.integration.fulfilment.conftest import T0, Fulfilment, StartFulfilment
from tests.support.fulfilment import (
    WAREHOUSE,
    deadline_states,
    order_reviewed,
    replacement_requested,
)
from tests.support.inventory import OPS
from tests.support.metrics import metric
from tests.support.polling import eventually

BREACHED = "lvyue_sla_deadlines_breached_total"


async def _ship_order(f: Fulfilment, order_id: uuid.UUID) -> dict[str, object]:
    """The order's own parcel: reviewed, requested, dispatched."""
    await f.publish(order_reviewed(order_id, reviewed_at=f.clock.now()))
    shipment = await f.shipment_for(order_id)
    response = await f.dispatch(str(shipment["id"]), tracking="SF0000000001")
    assert response.status_code == 200, response.text
    data: dict[str, object] = response.json()
    return data


async def _replacements(f: Fulfilment, order_id: uuid.UUID, expect: int) -> list[dict[str, object]]:
    page = await eventually(
        lambda: f.page(order_id=str(order_id)), lambda p: p["total"] == 1 + expect
    )
    return [s for s in page["items"] if s["aftersale_id"] is not None]


async def _synced_shipments(f: Fulfilment) -> set[str]:
    async with f.engine.connect() as conn:
        rows = await conn.execute(select(tracking_syncs.c.shipment_id))
        return {str(r.shipment_id) for r in rows}


async def test_an_exchange_ships_a_replacement_beside_the_orders_own_parcel(
    fulfilment: StartFulfilment,
) -> None:
    order_id, aftersale_id = uuid.uuid4(), uuid.uuid4()
    urgent_before = metric(
        "lvyue_fulfilment_shipments_requested_total", warehouse=WAREHOUSE, priority="urgent"
    )
    async with fulfilment() as f:
        original = await _ship_order(f, order_id)
        f.advance(days=1)  # Friday 10:00: the return arrived, aftersales asks for the replacement
        asked = replacement_requested(order_id, aftersale_id, at=f.clock.now())
        await f.publish(asked)
        [replacement] = await _replacements(f, order_id, 1)
        requests = await f.events("shipment.requested", 2)
        pick_list = await f.page(status="pending", warehouse_id=WAREHOUSE)
        opened = await deadline_states(f.engine, aftersale_id)

        f.advance(hours=3)
        response = await f.dispatch(str(replacement["id"]), carrier="YTO", tracking="YT99")
        assert response.status_code == 200, response.text
        [announced] = await f.events("aftersale.replacement_dispatched", 1)
        shipped = await f.events("order.shipped", 1, settle_s=1.5)
        closed = await deadline_states(f.engine, aftersale_id)
        order_deadlines = await deadline_states(f.engine, order_id)
        synced = await _synced_shipments(f)
        original_now = await f.get(str(original["id"]))

    # the warehouse contract: a second shipment.requested, same key, with the after-sale id
    first, second = (e.payload(ShipmentRequested) for e in requests)
    assert first.aftersale_id is None
    assert second.aftersale_id == aftersale_id
    assert requests[1].subject == str(order_id)
    sent = asked.payload(ReplacementRequested)
    assert (second.order_id, second.warehouse_id, second.priority) == (
        order_id,
        WAREHOUSE,
        Priority.URGENT,
    )
    assert (second.receiver, second.lines) == (sent.receiver, sent.lines)
    assert second.shipment_id != first.shipment_id
    assert str(aftersale_id) in second.remarks
    assert second.due_at == (T0 + timedelta(days=1)).replace(hour=16)
    assert second.outbound_due_at == T0 + timedelta(days=2)
    assert [s["id"] for s in pick_list["items"]] == [str(second.shipment_id)]
    assert replacement["lines"] == [{"sku": "TEA-LJ-250G", "name": None, "quantity": 1}]
    assert opened == {"outbound_24h": "open", "dispatch_1600": "open"}

    # its dispatch completes the exchange, not a second order.shipped
    done = announced.payload(ReplacementDispatched)
    assert announced.subject == str(order_id)
    assert (done.aftersale_id, done.shipment_id, done.order_id) == (
        aftersale_id,
        second.shipment_id,
        order_id,
    )
    assert [(ln.sku, ln.quantity) for ln in done.lines] == [("TEA-LJ-250G", 1)]
    assert (done.carrier, done.tracking_number) == ("YTO", "YT99")
    assert len(shipped) == 1
    assert response.json()["on_time"] is True
    assert closed == {"outbound_24h": "met", "dispatch_1600": "met"}
    assert order_deadlines == {"outbound_24h": "met", "dispatch_1600": "met"}
    # the platforms' shipping APIs take the order's first parcel only
    assert synced == {str(original["id"])}
    assert original_now["tracking_number"] == "SF0000000001"
    assert (
        metric("lvyue_fulfilment_shipments_requested_total", warehouse=WAREHOUSE, priority="urgent")
        == urgent_before + 1
    )


async def test_each_exchange_gets_one_replacement_however_often_it_is_delivered(
    fulfilment: StartFulfilment,
) -> None:
    order_id, first_case, second_case = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with fulfilment(replacement_priority="normal") as f:
        await _ship_order(f, order_id)
        asked = replacement_requested(order_id, first_case, at=f.clock.now())
        again = replacement_requested(order_id, first_case, at=f.clock.now())  # new event id
        other = replacement_requested(order_id, second_case, at=f.clock.now(), lines=[("CUP", 1)])
        await f.publish(asked, asked, again, other)
        await f.wait_processed(4)  # order.reviewed and three events (the repeat is the inbox's)
        replacements = await _replacements(f, order_id, 2)
        requests = await f.events("shipment.requested", 3, settle_s=1.5)

    assert sorted(str(s["aftersale_id"]) for s in replacements) == sorted(
        [str(first_case), str(second_case)]
    )
    assert {s["priority"] for s in replacements} == {"normal"}
    assert [e.payload(ShipmentRequested).aftersale_id for e in requests].count(first_case) == 1


async def test_a_late_replacement_breaches_its_own_deadline_once(
    fulfilment: StartFulfilment,
) -> None:
    order_id, aftersale_id = uuid.uuid4(), uuid.uuid4()
    breached_before = metric(BREACHED, sla="dispatch_1600")
    async with fulfilment() as f:
        await _ship_order(f, order_id)
        await f.publish(replacement_requested(order_id, aftersale_id, at=f.clock.now()))
        [replacement] = await _replacements(f, order_id, 1)
        f.advance(hours=7)  # 17:00: past the cut-off, inside the 24 h
        await eventually(
            lambda: deadline_states(f.engine, aftersale_id),
            lambda states: states.get("dispatch_1600") == "breached",
        )
        response = await f.dispatch(str(replacement["id"]))
        assert response.status_code == 200, response.text
        announced = await f.events("sla.breached", 1, settle_s=1.5)
        states = await deadline_states(f.engine, aftersale_id)
        synced = await _synced_shipments(f)

    assert response.json()["on_time"] is False
    assert states == {"dispatch_1600": "breached", "outbound_24h": "met"}
    [breach] = [e.payload(SlaBreached) for e in announced]
    assert (breach.sla, breach.subject) == ("dispatch_1600", str(aftersale_id))
    assert metric(BREACHED, sla="dispatch_1600") == breached_before + 1
    assert str(replacement["id"]) not in synced
    assert len(synced) == 1  # the order's own parcel


async def test_a_stopped_replacement_tells_the_warehouse_and_ends_its_deadlines(
    fulfilment: StartFulfilment,
) -> None:
    order_id, aftersale_id = uuid.uuid4(), uuid.uuid4()
    async with fulfilment() as f:
        original = await _ship_order(f, order_id)
        await f.publish(replacement_requested(order_id, aftersale_id, at=f.clock.now()))
        [replacement] = await _replacements(f, order_id, 1)
        response = await f.client.post(
            f"/shipments/{replacement['id']}/cancel", json={"reason": "买家改退款"}, headers=OPS
        )
        assert response.status_code == 200, response.text
        [stopped] = await f.events("shipment.cancelled", 1, settle_s=1.5)
        states = await deadline_states(f.engine, aftersale_id)
        original_now = await f.get(str(original["id"]))

    sent = stopped.payload(ShipmentCancelled)
    assert (sent.shipment_id, sent.aftersale_id, sent.order_id) == (
        uuid.UUID(str(replacement["id"])),
        aftersale_id,
        order_id,
    )
    assert stopped.subject == str(order_id)
    assert response.json()["status"] == "cancelled"
    assert states == {"outbound_24h": "cancelled", "dispatch_1600": "cancelled"}
    assert original_now["status"] == "dispatched"
