"""The breach forecast against the real PostgreSQL: a warehouse dispatching at a known rate has
exactly the shipments it cannot reach by 16:00 flagged before 16:00, and exactly those breach."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.cli.embedded import EmbeddedBroker
from lvyue.common.clock import ManualClock
from lvyue.common.deadlines.forecast import read_forecast
from lvyue.common.deadlines.scanner import DeadlineScanner
from lvyue.common.deadlines.store import (
    NewDeadline,
    breach_overdue,
    close_deadline,
    open_many,
    predicted_breaches,
)
from lvyue.order_review.main import build_app
from lvyue.order_review.settings import OrderReviewSettings
from tests.conftest import OPS_TOKEN
from tests.support.apps import serve
from tests.support.kernel import wired
from tests.support.metrics import metric

CST = timezone(timedelta(hours=8))
CUTOFF = datetime(2026, 11, 19, 16, 0, tzinfo=CST)


async def test_exactly_the_shipments_the_warehouse_cannot_reach_are_flagged_then_breach(
    engine: AsyncEngine, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    sla = f"dispatch_{uuid.uuid4().hex[:8]}"
    clock = ManualClock(CUTOFF - timedelta(hours=2))  # 14:00
    async with wired(engine, broker.bootstrap_servers, topic_prefix, clock=clock) as w:
        # 16 shipments due at 16:00 in WH-A, and 3 in WH-B, which dispatches nothing.
        subjects = [f"shipment-{n:02d}" for n in range(16)]
        async with w.uow() as uow:
            await open_many(uow, [NewDeadline(sla, s, clock.now(), CUTOFF, queue="WH-A")
                                  for s in subjects])  # fmt: skip
            await open_many(uow, [NewDeadline(sla, f"b-{n}", clock.now(), CUTOFF, queue="WH-B")
                                  for n in range(3)])  # fmt: skip
            await uow.commit()

        async def dispatch(subject: str) -> None:
            async with w.uow() as uow:
                await close_deadline(uow, sla=sla, subject=subject, closed_at=clock.now())
                await uow.commit()

        # WH-A dispatches one every 10 minutes: 6 an hour, 6 between 14:00 and 15:00.
        for subject in subjects[:6]:
            clock.advance(timedelta(minutes=10))
            await dispatch(subject)
        assert clock.now() == CUTOFF - timedelta(hours=1)  # 15:00

        async with w.uow() as uow:
            forecast = [f for f in await read_forecast(uow.session, now=clock.now())
                        if f.sla == sla]  # fmt: skip
        a = [f for f in forecast if f.queue == "WH-A"]
        assert [f.subject for f in a] == subjects[6:]  # the 10 left, in their line
        assert {f.rate_per_hour for f in a} == {6.0}
        # At 6 an hour the next 6 leave by 16:00 (the 6th exactly at 16:00); 4 cannot.
        assert [f.subject for f in a if f.will_breach] == subjects[12:]
        assert a[5].predicted_at == CUTOFF
        # WH-B closed nothing lately: no rate, no forecast yet.
        assert {f.will_breach for f in forecast if f.queue == "WH-B"} == {None}

        scanner = DeadlineScanner(w.uow, service="test")
        await scanner.refresh_forecast()
        assert metric("lvyue_sla_predicted_breaches", sla=sla) == 4.0
        assert metric("lvyue_sla_first_predicted_breach_seconds", sla=sla) == 3600.0

        for subject in subjects[6:12]:  # the warehouse keeps its pace
            clock.advance(timedelta(minutes=10))
            await dispatch(subject)
        clock.advance(timedelta(minutes=1))
        breached = {d.subject for d in await scanner.scan_once() if d.sla == sla}
    assert {s for s in breached if s.startswith("shipment")} == set(subjects[12:])


async def test_every_service_answers_its_forecast_to_its_readers_only(
    make_settings: Callable[..., OrderReviewSettings],
) -> None:
    sla = f"contact_{uuid.uuid4().hex[:8]}"
    clock = ManualClock(CUTOFF - timedelta(hours=1))
    app = build_app(make_settings(), clock=clock)
    async with serve(app) as client:
        async with app.state.kernel.uow() as uow:
            await open_many(uow, [NewDeadline(sla, "order-1", clock.now(), CUTOFF)])
            await uow.commit()
        refused = await client.get("/deadlines/forecast")
        assert refused.status_code == 401, refused.text
        page = await client.get("/deadlines/forecast", params={"sla": sla},
                                headers={"Authorization": f"Bearer {OPS_TOKEN}"})  # fmt: skip
        assert page.status_code == 200, page.text
        body = page.json()
        assert body["total"] == 1
        [item] = body["items"]
        assert (item["subject"], item["will_breach"], item["predicted_at"]) == (
            "order-1",
            None,
            None,
        )
        bad = await client.get("/deadlines/forecast", params={"limit": 0},
                               headers={"Authorization": f"Bearer {OPS_TOKEN}"})  # fmt: skip
        assert bad.status_code == 422, bad.text


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_the_counts_in_sql_agree_with_the_forecast_deadline_by_deadline(
    engine: AsyncEngine, broker: EmbeddedBroker, topic_prefix: str, seed: int
) -> None:
    """store.predicted_breaches (the gauges, the SLA board) counts what forecast() flags, on
    random lines: queues with and without completions, ties, deadlines past due, breached."""
    rng = random.Random(seed)
    slas = [f"sla{n}_{uuid.uuid4().hex[:8]}" for n in range(3)]
    start = CUTOFF - timedelta(hours=3)
    clock = ManualClock(start)
    async with wired(engine, broker.bootstrap_servers, topic_prefix, clock=clock) as w:
        opened: list[NewDeadline] = []
        for sla in slas:
            for queue in (None, "Q1", "Q2"):
                for n in range(rng.randrange(0, 25)):
                    due = start + timedelta(minutes=rng.choice((30, 60, 90, 120, 150, 240)))
                    opened.append(NewDeadline(sla, f"{queue}-{n}", start, due, queue=queue))
        async with w.uow() as uow:
            await open_many(uow, opened)
            await uow.commit()
        for _ in range(40):  # work some of them, out of line too, over two hours
            clock.advance(timedelta(minutes=3))
            item = rng.choice(opened)
            async with w.uow() as uow:
                await close_deadline(uow, sla=item.sla, subject=item.subject, closed_at=clock.now())
                await uow.commit()
        async with w.uow() as uow:  # the past due ones breached, as the scanner would
            await breach_overdue(uow.session, now=clock.now(), limit=10_000)
            await uow.commit()
        clock.advance(timedelta(minutes=1))  # and a few more come due, not breached yet
        async with w.uow() as uow:
            now = clock.now()
            listed = await read_forecast(uow.session, now=now, limit=1_000_000)
            counted = await predicted_breaches(uow.session, now=now, window=timedelta(hours=1))
    for sla in slas:
        late = [f for f in listed if f.sla == sla and f.will_breach and not f.breached]
        expected = (len(late), min((f.due_at for f in late), default=None))
        got = counted.get(sla)
        assert ((got.count, got.first_due_at) if got else (0, None)) == expected, sla
    assert any(counted.get(sla) for sla in slas), "the data had predicted breaches to count"
