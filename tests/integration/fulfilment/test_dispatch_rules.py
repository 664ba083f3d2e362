"""Dispatch confirmation edge cases: hooks share the dispatch's transaction; a confirmation
from the future, from before the shipment was requested or before 2000 is refused (a table of
hostile times, over HTTP and on the topic), and the clock skew allowed is a setting."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.common.tables import dead_letters
from lvyue.common.uow import UnitOfWork
from lvyue.fulfilment.repository import ShipmentRecord
from tests.integration.fulfilment.conftest import T0, StartFulfilment
from tests.support.fulfilment import order_reviewed, warehouse_dispatched
from tests.support.inventory import WAREHOUSE_STAFF
from tests.support.polling import eventually


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


@dataclass(frozen=True)
class BadTime:
    """A dispatched_at no parcel can have left at, as a warehouse might send it."""

    name: str
    at: str
    says: str  # what the 422 must say besides naming dispatched_at


def bad_dispatch_times(requested: datetime) -> list[BadTime]:
    """The table every dispatch confirmation is checked against: `requested` is when lvyue
    asked the warehouse to ship (the shipment's creation, shipment.requested's requested_at)."""
    return [
        BadTime("year 1 at +14:00", "0001-01-01T00:00:00+14:00", "2000-01-01"),  # no UTC value
        BadTime("year 1 UTC", "0001-01-01T00:00:00Z", "2000-01-01"),
        BadTime("1900", "1900-01-01T00:00:00+08:00", "2000-01-01"),
        BadTime("just before 2000", "1999-12-31T23:59:59Z", "2000-01-01"),
        BadTime("year 9999 at -14:00", "9999-12-31T23:59:59-14:00", "in the future"),
        BadTime("ten years before the request", (requested - timedelta(days=3650)).isoformat(),
                "before the shipment was requested"),
        BadTime("six minutes before the request", (requested - timedelta(minutes=6)).isoformat(),
                "before the shipment was requested"),
    ]  # fmt: skip


async def test_impossible_dispatch_times_are_422_naming_dispatched_at_and_store_nothing(
    fulfilment: StartFulfilment,
) -> None:
    """A backdated dispatch would close the deadlines as met at a time the parcel cannot have
    left (a late one passed as on time); year 1 at +14:00 was a 500 from PostgreSQL."""
    table = bad_dispatch_times(T0)
    orders = [uuid.uuid4() for _ in table]
    async with fulfilment() as f:
        await f.publish(*(order_reviewed(order_id, reviewed_at=T0) for order_id in orders))
        shipments = [await f.shipment_for(order_id) for order_id in orders]
        f.advance(hours=10)  # 20:00: past the 16:00 cut-off, so only a backdated time is "met"
        for bad, shipment in zip(table, shipments, strict=True):
            body = {"carrier_code": "SF", "tracking_number": "SF1", "dispatched_at": bad.at}
            answer = await f.client.post(
                f"/shipments/{shipment['id']}/dispatch", json=body, headers=WAREHOUSE_STAFF
            )
            assert answer.status_code == 422, (bad.name, answer.text)
            assert answer.headers["content-type"] == "application/problem+json", bad.name
            detail = answer.json()["detail"]
            assert "dispatched_at" in detail, (bad.name, detail)
            assert bad.says in detail, (bad.name, detail)
        views = [await f.get(shipment["id"]) for shipment in shipments]
        shipped = await f.events("order.shipped", 0, timeout_s=1.0)
    for bad, view in zip(table, views, strict=True):
        assert (view["status"], view["dispatched_at"]) == ("pending", None), bad.name
        assert "met" not in {d["state"] for d in view["deadlines"]}, bad.name
    assert shipped == []


async def test_a_dispatch_reported_late_or_within_the_clock_skew_is_recorded_as_it_happened(
    fulfilment: StartFulfilment,
) -> None:
    late_report, skewed = uuid.uuid4(), uuid.uuid4()
    async with fulfilment() as f:
        await f.publish(*(order_reviewed(o, reviewed_at=T0) for o in (late_report, skewed)))
        first, second = [await f.shipment_for(o) for o in (late_report, skewed)]
        f.advance(hours=10)  # the warehouse reports at 20:00 what happened in the morning
        reported = await f.dispatch(first["id"], at=T0 + timedelta(hours=2))
        within_skew = await f.dispatch(second["id"], at=T0 - timedelta(minutes=4))
    assert reported.status_code == 200, reported.text
    assert datetime.fromisoformat(reported.json()["dispatched_at"]) == T0 + timedelta(hours=2)
    assert reported.json()["on_time"] is True  # judged by when it left, not when it was told
    assert within_skew.status_code == 200, within_skew.text


async def test_the_clock_skew_allowed_is_a_setting(fulfilment: StartFulfilment) -> None:
    strict, lenient = uuid.uuid4(), uuid.uuid4()
    async with fulfilment(dispatch_clock_skew_s=0) as f:
        await f.publish(order_reviewed(strict, reviewed_at=T0))
        shipment = await f.shipment_for(strict)
        early = await f.dispatch(shipment["id"], at=T0 - timedelta(seconds=1))
        ahead = await f.dispatch(shipment["id"], at=T0 + timedelta(seconds=1))
    assert early.status_code == 422, early.text
    assert "(0 s)" in early.json()["detail"]
    assert ahead.status_code == 422, ahead.text
    async with fulfilment(dispatch_clock_skew_s=3600) as f:
        await f.publish(order_reviewed(lenient, reviewed_at=T0))
        shipment = await f.shipment_for(lenient)
        early = await f.dispatch(shipment["id"], at=T0 - timedelta(minutes=50))
    assert early.status_code == 200, early.text


async def test_an_impossible_dispatch_time_on_the_topic_is_dead_lettered_naming_it(
    fulfilment: StartFulfilment,
) -> None:
    order_id = uuid.uuid4()
    year_one = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))
    async with fulfilment() as f:
        await f.publish(order_reviewed(order_id, reviewed_at=T0))
        shipment = await f.shipment_for(order_id)
        shipment_id = uuid.UUID(shipment["id"])
        f.advance(hours=10)
        await f.publish(
            warehouse_dispatched(order_id, shipment_id, at=year_one),
            warehouse_dispatched(order_id, shipment_id, at=T0 - timedelta(days=3650)),
        )
        parked = await eventually(lambda: _dead_letters(f.engine), lambda rows: len(rows) == 2)
        view = await f.get(shipment["id"])
    assert view["status"] == "pending"
    for topic, error in parked:
        assert topic.endswith("warehouse.dispatched")
        assert "dispatched_at" in error, error
        assert "before the shipment was requested" in error, error


async def _dead_letters(engine: AsyncEngine) -> list[tuple[str, str]]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(dead_letters.c.topic, dead_letters.c.error))
        return [(r.topic, r.error) for r in rows]
