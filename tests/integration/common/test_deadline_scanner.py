"""The deadline scanner with a moved clock, against the real PostgreSQL and broker."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.cli.embedded import EmbeddedBroker
from lvyue.common.clock import ManualClock
from lvyue.common.deadlines.scanner import DeadlineScanner
from lvyue.common.deadlines.store import (
    Deadline,
    DeadlineState,
    cancel_deadline,
    close_deadline,
    for_subject,
    open_counts,
    open_deadline,
    pending,
)
from lvyue.common.events.catalog import SlaBreached
from lvyue.common.events.codec import from_kafka
from lvyue.common.tables import deadlines, outbox
from tests.support.kafka import read_topic
from tests.support.kernel import wired
from tests.support.metrics import metric

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _breached_total(sla: str) -> float:
    return metric("lvyue_sla_deadlines_breached_total", sla=sla)


async def test_overdue_deadline_is_breached_exactly_once_with_two_scanners(
    engine: AsyncEngine, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    clock = ManualClock(START)
    sla = f"contact_2h_{topic_prefix.strip('.')}"
    async with wired(engine, broker.bootstrap_servers, topic_prefix, clock=clock) as w:
        async with w.uow() as uow:
            for n in range(40):
                await open_deadline(
                    uow,
                    sla=sla,
                    subject=f"order-{n}",
                    opened_at=START,
                    due_at=START + timedelta(hours=2),
                )
            await uow.commit()
        scanners = [DeadlineScanner(w.uow, service="test", batch_size=7) for _ in range(2)]
        before = _breached_total(sla)

        clock.advance(timedelta(hours=1, minutes=59))
        assert sum(len(b) for b in await asyncio.gather(*(s.scan_once() for s in scanners))) == 0

        clock.advance(timedelta(minutes=2))
        counts = await asyncio.gather(*(s.scan_until_clear() for s in scanners))
        assert sum(counts) == 40
        # a restart (new scanners) and more scans find nothing left to breach
        again = [DeadlineScanner(w.uow, service="test") for _ in range(2)]
        assert await asyncio.gather(*(s.scan_until_clear() for s in again)) == [0, 0]
        assert _breached_total(sla) - before == 40

        async with engine.connect() as conn:
            states = (
                await conn.execute(
                    select(deadlines.c.state, func.count()).group_by(deadlines.c.state)
                )
            ).all()
            events = (await conn.execute(select(func.count()).select_from(outbox))).scalar_one()
        assert dict(states) == {"breached": 40}
        assert events == 40  # one sla.breached per deadline

        await w.relay.drain()
        records = await read_topic(
            broker.bootstrap_servers, topic_prefix + "sla.breached", expect=40
        )
        subjects = sorted(
            from_kafka(r.key, r.value, r.headers).payload(SlaBreached).subject for r in records
        )
        assert subjects == sorted(f"order-{n}" for n in range(40))


async def test_closing_on_time_is_met_and_closing_late_is_breached(
    engine: AsyncEngine, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    clock = ManualClock(START)
    async with wired(engine, broker.bootstrap_servers, topic_prefix, clock=clock) as w:
        async with w.uow() as uow:
            for subject in ("on-time", "late-unscanned", "late-scanned"):
                await open_deadline(
                    uow,
                    sla="s",
                    subject=subject,
                    opened_at=START,
                    due_at=START + timedelta(hours=2),
                )
            await uow.commit()
        async with w.uow() as uow:
            met = await close_deadline(
                uow, sla="s", subject="on-time", closed_at=START + timedelta(hours=1)
            )
            await uow.commit()
        clock.advance(timedelta(hours=3))
        scanner = DeadlineScanner(w.uow, service="test")
        async with w.uow() as uow:  # closed late before any scanner saw it
            late = await close_deadline(
                uow, sla="s", subject="late-unscanned", closed_at=clock.now()
            )
            await uow.commit()
        breached = await scanner.scan_until_clear()
        async with w.uow() as uow:
            after_breach = await close_deadline(
                uow, sla="s", subject="late-scanned", closed_at=clock.now()
            )
            await uow.commit()
    assert met is not None
    assert met.state is DeadlineState.MET
    assert late is not None
    assert late.state is DeadlineState.BREACHED
    assert breached == 1
    assert after_breach is not None
    assert after_breach.state is DeadlineState.BREACHED
    assert after_breach.closed_at == clock.now()


async def test_due_time_itself_is_on_time_for_the_scanner_and_for_closing(
    engine: AsyncEngine, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    # "Within 2 h" includes the second it ends: a scan at exactly the due time breaches
    # nothing and counts nothing overdue, and closing then is met.
    clock = ManualClock(START)
    sla = f"edge_{topic_prefix.strip('.')}"
    due = START + timedelta(hours=2)
    async with wired(engine, broker.bootstrap_servers, topic_prefix, clock=clock) as w:
        async with w.uow() as uow:
            await open_deadline(uow, sla=sla, subject="edge", opened_at=START, due_at=due)
            await uow.commit()
        scanner = DeadlineScanner(w.uow, service="test")
        clock.advance(due - START)
        at_due = await scanner.scan_once()
        async with w.uow() as uow:
            counts = await open_counts(uow.session, now=clock.now(), at_risk_fraction=0.8)
            closed = await close_deadline(uow, sla=sla, subject="edge", closed_at=clock.now())
            await uow.commit()
    assert at_due == []
    assert (counts[sla].overdue, counts[sla].at_risk) == (0, 1)
    assert closed is not None
    assert closed.state is DeadlineState.MET


async def test_a_breached_deadline_stands_until_closed_and_is_not_opened_again(
    engine: AsyncEngine, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    # An order flagged abnormal, nobody calls, it breaches; a correction flags it again: the
    # customer still waits since the first flag, so no fresh two hours and no second breach.
    clock = ManualClock(START)
    sla = f"contact_{topic_prefix.strip('.')}"
    two_hours = timedelta(hours=2)
    async with wired(engine, broker.bootstrap_servers, topic_prefix, clock=clock) as w:
        scanner = DeadlineScanner(w.uow, service="test")

        async def reopen() -> Deadline:
            async with w.uow() as uow:
                deadline = await open_deadline(
                    uow,
                    sla=sla,
                    subject="o-1",
                    opened_at=clock.now(),
                    due_at=clock.now() + two_hours,
                )
                await uow.commit()
            return deadline

        first = await reopen()
        before = _breached_total(sla)
        clock.advance(two_hours + timedelta(minutes=1))
        assert await scanner.scan_until_clear() == 1

        clock.advance(timedelta(hours=1))
        again = await reopen()
        assert (again.id, again.state, again.due_at) == (
            first.id,
            DeadlineState.BREACHED,
            first.due_at,
        )
        clock.advance(two_hours + timedelta(minutes=1))
        assert await scanner.scan_until_clear() == 0
        assert _breached_total(sla) - before == 1

        async with w.uow() as uow:  # the call at last: it closes the breached one
            closed = await close_deadline(uow, sla=sla, subject="o-1", closed_at=clock.now())
            await uow.commit()
        assert closed is not None
        assert (closed.id, closed.state, closed.closed_at) == (
            first.id, DeadlineState.BREACHED, clock.now()
        )  # fmt: skip
        later = await reopen()  # closed, the SLA may open anew
        assert (later.state, later.due_at) == (DeadlineState.OPEN, clock.now() + two_hours)
        async with w.uow() as uow:
            rows = await for_subject(uow.session, "o-1")
        assert [(d.id, d.state) for d in rows if d.sla == sla] == [
            (first.id, DeadlineState.BREACHED), (later.id, DeadlineState.OPEN)
        ]  # fmt: skip


async def test_cancelling_ends_a_breached_deadline_which_keeps_its_breach(
    engine: AsyncEngine, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    # An order cancelled after its review deadline breached: nothing is left to do on it, so
    # the breach forecast must not count it as work waiting in its queue.
    clock = ManualClock(START)
    sla = f"review_{topic_prefix.strip('.')}"
    async with wired(engine, broker.bootstrap_servers, topic_prefix, clock=clock) as w:

        async def open_(subject: str) -> None:
            async with w.uow() as uow:
                due = clock.now() + timedelta(hours=1)
                await open_deadline(
                    uow, sla=sla, subject=subject, opened_at=clock.now(), due_at=due
                )
                await uow.commit()

        async def cancel(subject: str) -> bool:
            async with w.uow() as uow:
                was_open = await cancel_deadline(uow, sla=sla, subject=subject, at=clock.now())
                await uow.commit()
            return was_open

        await open_("breached")
        clock.advance(timedelta(hours=2))
        assert await DeadlineScanner(w.uow, service="test").scan_until_clear() == 1
        await open_("cancelled")
        await open_("waiting")
        assert await cancel("breached") is False
        assert await cancel("cancelled") is True
        async with w.uow() as uow:
            states = {s: await for_subject(uow.session, s) for s in ("breached", "cancelled")}
            waiting = [p for p in await pending(uow.session, limit=100) if p.sla == sla]
    assert [(d.state, d.closed_at) for d in states["breached"]] == [
        (DeadlineState.BREACHED, clock.now())
    ]
    assert [(d.state, d.closed_at) for d in states["cancelled"]] == [
        (DeadlineState.CANCELLED, clock.now())
    ]
    assert [p.subject for p in waiting] == ["waiting"]


async def test_compliance_over_the_window_comes_from_the_table_and_survives_a_restart(
    engine: AsyncEngine, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    clock = ManualClock(START)
    sla = f"window_{topic_prefix.strip('.')}"
    day = timedelta(hours=24)
    async with wired(engine, broker.bootstrap_servers, topic_prefix, clock=clock) as w:

        async def opened(*subjects: str) -> None:
            async with w.uow() as uow:
                for subject in subjects:
                    await open_deadline(
                        uow, sla=sla, subject=subject, opened_at=clock.now(),
                        due_at=clock.now() + timedelta(hours=2),
                    )  # fmt: skip
                await uow.commit()

        async def closed(subject: str) -> None:
            async with w.uow() as uow:
                await close_deadline(uow, sla=sla, subject=subject, closed_at=clock.now())
                await uow.commit()

        await opened("met-long-ago", "breached-long-ago")
        await closed("met-long-ago")
        clock.advance(timedelta(hours=3))
        await DeadlineScanner(w.uow, service="test").scan_until_clear()  # breached-long-ago
        clock.advance(day)
        await opened("met-1", "met-2", "late-closed", "late-open", "late-open-too")
        clock.advance(timedelta(hours=1))
        await closed("met-1")
        await closed("met-2")
        clock.advance(timedelta(hours=2))
        await closed("late-closed")  # closed past due, not seen by a scanner first
        first = DeadlineScanner(w.uow, service="test", compliance_window_s=day.total_seconds())
        await first.scan_until_clear()  # the two late-open: breached, left open
        await first.refresh_outcomes()

        # a new process (fresh counters, as after a restart) reads the same from the table
        second = DeadlineScanner(w.uow, service="test", compliance_window_s=day.total_seconds())
        outcomes = await second.refresh_outcomes()
    # the two of a day ago are outside the window; a late close counts once, as breached
    assert (outcomes[sla].met, outcomes[sla].breached) == (2, 3)
    assert outcomes[sla].compliance == 2 / 5
    assert metric("lvyue_sla_recent_met", sla=sla) == 2
    assert metric("lvyue_sla_recent_breached", sla=sla) == 3
    assert metric("lvyue_sla_compliance_window_seconds") == day.total_seconds()
