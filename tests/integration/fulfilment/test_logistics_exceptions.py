"""Delayed and lost parcels, on the real database and broker, with a moved clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from lvyue.cli.embedded import EmbeddedBroker
from lvyue.common.clock import ManualClock
from lvyue.common.events.catalog import ShipmentDelayed
from lvyue.common.events.codec import from_kafka
from lvyue.fulfilment.logistics.rules import NoScanLimits
from lvyue.fulfilment.logistics.watch import ParcelWatch
from lvyue.fulfilment.settings import FulfilmentSettings
from tests.support.inventory import OPS, PLATFORM, SRE, WAREHOUSE_STAFF
from tests.support.kafka import read_topic
from tests.support.metrics import metric
from tests.support.polling import eventually
from tests.support.tracking import T0, Dispatched, Service, service, settings_for

FLAGGED = "lvyue_logistics_exceptions_total"
OPEN = "lvyue_logistics_open_exceptions"

MakeSettings = Callable[..., FulfilmentSettings]


@pytest.fixture
def make_settings(fulfilment_db: str, broker: EmbeddedBroker, topic_prefix: str) -> MakeSettings:
    def build(**overrides: Any) -> FulfilmentSettings:
        values = {"consumers_enabled": False, **overrides}
        return settings_for(fulfilment_db, broker.bootstrap_servers, topic_prefix, **values)

    return build


def watch(svc: Service) -> ParcelWatch:
    return ParcelWatch(svc.uow, NoScanLimits.from_settings(svc.settings))


async def scan(svc: Service, at: datetime, scanners: int = 2) -> int:
    """Moves the clock to `at` and lets several scanners run side by side."""
    svc.clock.set(at)
    counts = await asyncio.gather(*(watch(svc).scan_until_clear() for _ in range(scanners)))
    return sum(counts)


async def post_scans(
    svc: Service, parcel: Dispatched, *scans: tuple[datetime, str], **kw: Any
) -> Any:
    body = [
        {"at": at.isoformat(), "status": status, "location": "杭州转运中心"} for at, status in scans
    ]
    response = await svc.client.post(
        f"/shipments/{parcel.id}/tracking-events", json=body, headers=kw.get("headers", PLATFORM)
    )
    assert response.status_code == 200, response.text
    return response.json()


async def delayed_events(broker: EmbeddedBroker, prefix: str, expect: int) -> list[ShipmentDelayed]:
    records = await read_topic(broker.bootstrap_servers, prefix + "shipment.delayed", expect=expect)
    events = [from_kafka(r.key, r.value, r.headers) for r in records]
    return [ShipmentDelayed.model_validate(e.data) for e in events]


async def listed(svc: Service, **params: str) -> list[dict[str, Any]]:
    response = await svc.client.get("/logistics-exceptions", params=params, headers=SRE)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_parcel_without_scan_for_24_hours_is_delayed_once_and_lost_at_72(
    make_settings: MakeSettings, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    parcel = Dispatched()
    delayed_before, lost_before = metric(FLAGGED, kind="delayed"), metric(FLAGGED, kind="lost")
    async with service(make_settings(), ManualClock(T0)) as svc:
        await svc.enqueue(parcel)
        assert await scan(svc, T0 + timedelta(hours=23, minutes=59)) == 0
        assert await scan(svc, T0 + timedelta(hours=24)) == 1
        assert await scan(svc, T0 + timedelta(hours=48)) == 0  # flagged once, not every pass
        [item] = await listed(svc, kind="delayed")
        assert (item["shipment_id"], item["cause"], item["last_scan_at"]) == (
            str(parcel.id), "no_scan", None,
        )  # fmt: skip
        await watch(svc).refresh_gauge()
        assert (metric(OPEN, kind="delayed"), metric(OPEN, kind="lost")) == (1, 0)

        assert await scan(svc, T0 + timedelta(hours=72)) == 1
        assert await scan(svc, T0 + timedelta(hours=96)) == 0
        assert await listed(svc, kind="delayed") == []
        [lost] = await listed(svc, kind="lost")
        assert lost["shipment_id"] == str(parcel.id)
        [escalated] = await listed(svc, kind="delayed", state="cleared")
        assert escalated["resolution"] == "escalated"
        await watch(svc).refresh_gauge()
        assert (metric(OPEN, kind="delayed"), metric(OPEN, kind="lost")) == (0, 1)
        forbidden = await svc.client.get("/logistics-exceptions", headers=WAREHOUSE_STAFF)
        assert forbidden.status_code == 403

        events = await delayed_events(broker, topic_prefix, expect=2)
    assert [(e.shipment_id, e.lost) for e in events] == [(parcel.id, False), (parcel.id, True)]
    assert events[0].detected_at == T0 + timedelta(hours=24)
    assert (events[0].order_id, events[0].tracking_number) == (
        parcel.order_id,
        parcel.tracking_number,
    )
    assert metric(FLAGGED, kind="delayed") - delayed_before == 1
    assert metric(FLAGGED, kind="lost") - lost_before == 1


async def test_a_later_scan_clears_the_delay_and_a_new_silence_flags_again(
    make_settings: MakeSettings, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    parcel = Dispatched()
    async with service(make_settings(), ManualClock(T0)) as svc:
        await svc.enqueue(parcel)
        assert await scan(svc, T0 + timedelta(hours=25)) == 1

        scanned_at = T0 + timedelta(hours=25, minutes=30)
        svc.clock.set(scanned_at + timedelta(minutes=1))
        result = await post_scans(svc, parcel, (scanned_at, "in_transit"), headers=WAREHOUSE_STAFF)
        assert (result["accepted"], result["cleared"]) == (1, ["delayed"])
        again = await post_scans(svc, parcel, (scanned_at, "in_transit"))
        assert (again["accepted"], again["duplicates"], again["cleared"]) == (0, 1, [])
        assert await listed(svc, kind="delayed") == []

        assert await scan(svc, scanned_at + timedelta(hours=23)) == 0  # silence counts anew
        assert await scan(svc, scanned_at + timedelta(hours=24)) == 1
        [item] = await listed(svc, kind="delayed")
        assert datetime.fromisoformat(item["last_scan_at"]) == scanned_at
        events = await delayed_events(broker, topic_prefix, expect=2)
    assert [e.lost for e in events] == [False, False]
    assert events[1].last_scan_at == scanned_at


async def test_a_carrier_lost_status_flags_lost_at_once_and_delivery_clears_everything(
    make_settings: MakeSettings, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    lost, delivered = Dispatched(), Dispatched()
    async with service(make_settings(), ManualClock(T0 + timedelta(hours=2))) as svc:
        await svc.enqueue(lost)
        await svc.enqueue(delivered)
        collected = (T0 + timedelta(hours=1), "collected")
        reported = await post_scans(svc, lost, collected, (T0 + timedelta(hours=2), "lost"))
        assert (reported["accepted"], reported["flagged"]) == (2, ["lost"])
        repeated = await post_scans(svc, lost, (T0 + timedelta(hours=2), "lost"), headers=OPS)
        assert (repeated["duplicates"], repeated["flagged"]) == (1, [])
        [item] = await listed(svc, kind="lost")
        assert (item["shipment_id"], item["cause"], item["last_status"]) == (
            str(lost.id), "carrier_lost", "lost",
        )  # fmt: skip

        assert await scan(svc, T0 + timedelta(hours=30)) == 1  # `delivered` is quiet: delayed
        svc.clock.set(T0 + timedelta(hours=31))
        done = await post_scans(svc, delivered, (T0 + timedelta(hours=30, minutes=30), "delivered"))
        assert (done["delivered"], done["cleared"]) == (True, ["delayed"])
        assert await scan(svc, T0 + timedelta(days=10)) == 0  # delivered parcels are not watched
        events = await delayed_events(broker, topic_prefix, expect=2)
    assert sorted((e.shipment_id == lost.id, e.lost) for e in events) == [
        (False, False),
        (True, True),
    ]


async def test_scans_of_unknown_shipments_and_from_the_future_are_refused(
    make_settings: MakeSettings,
) -> None:
    parcel = Dispatched()
    async with service(make_settings(), ManualClock(T0)) as svc:
        await svc.enqueue(parcel)
        future = [{"at": (T0 + timedelta(hours=1)).isoformat(), "status": "in_transit"}]
        url = f"/shipments/{parcel.id}/tracking-events"
        assert (await svc.client.post(url, json=future, headers=PLATFORM)).status_code == 422
        other = f"/shipments/{Dispatched().id}/tracking-events"
        now = [{"at": T0.isoformat(), "status": "in_transit"}]
        assert (await svc.client.post(other, json=now, headers=PLATFORM)).status_code == 404
        assert (await svc.client.post(url, json=now, headers=SRE)).status_code == 403
        bad = [{"at": T0.isoformat(), "status": "teleported"}]
        assert (await svc.client.post(url, json=bad, headers=PLATFORM)).status_code == 422


# Scan times no carrier can have sent: (as sent, what the 422 must say). Year 1 at +14:00
# has no UTC value and was PostgreSQL's 500; year 9999 at -14:00 is past datetime's range in UTC.
HOSTILE_SCAN_TIMES = [
    ("0001-01-01T00:00:00+14:00", "2000-01-01"),
    ("0001-01-01T00:00:00Z", "2000-01-01"),
    ("1900-01-01T00:00:00+08:00", "2000-01-01"),
    ("1999-12-31T23:59:59Z", "2000-01-01"),
    ("9999-12-31T23:59:59-14:00", "in the future"),
]


async def test_scan_times_before_2000_or_past_the_range_are_422_naming_the_event(
    make_settings: MakeSettings,
) -> None:
    """The bad scan comes second: the whole batch is refused, naming `[1].at`, and nothing
    of it is stored (the good scan is new when sent again)."""
    parcel = Dispatched()
    good = {"at": T0.isoformat(), "status": "in_transit"}
    async with service(make_settings(), ManualClock(T0)) as svc:
        await svc.enqueue(parcel)
        url = f"/shipments/{parcel.id}/tracking-events"
        for at, says in HOSTILE_SCAN_TIMES:
            body = [good, {"at": at, "status": "in_transit"}]
            answer = await svc.client.post(url, json=body, headers=PLATFORM)
            assert answer.status_code == 422, (at, answer.text)
            problem = answer.json()
            assert [e["loc"] for e in problem["errors"]] == [["body", 1, "at"]], (at, problem)
            assert says in str(problem), (at, problem)
        stored = await post_scans(svc, parcel, (T0, "in_transit"))
    assert (stored["accepted"], stored["duplicates"]) == (1, 0)


async def test_the_background_watch_flags_with_the_moved_clock(
    make_settings: MakeSettings, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    parcel = Dispatched()
    async with service(make_settings(), ManualClock(T0), background=True) as svc:
        await svc.enqueue(parcel)
        svc.clock.advance(timedelta(hours=24, seconds=1))
        await eventually(lambda: listed(svc, kind="delayed"), lambda items: len(items) == 1)
        await eventually(lambda: _open_gauge(), lambda v: v >= 1)
        [event] = await delayed_events(broker, topic_prefix, expect=1)
    assert (event.shipment_id, event.lost) == (parcel.id, False)


async def _open_gauge() -> float:
    return metric(OPEN, kind="delayed")
