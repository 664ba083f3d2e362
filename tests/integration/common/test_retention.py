"""The kernel's tables pruned against the real PostgreSQL: sent outbox rows past the outbox's
retention, inbox rows past the inbox's, republished dead letters past theirs; never an unsent
row, a recent one or a dead letter still waiting; a backlog a batch at a time."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import ColumnElement, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.common.db import make_session_factory
from lvyue.common.retention import Retention, prune, webhook_deliveries_job
from lvyue.common.settings import KernelSettings
from lvyue.common.tables import dead_letters, inbox, outbox
from lvyue.order_review.tables import orders, webhook_deliveries
from tests.support.jobs import running
from tests.support.metrics import metric
from tests.support.polling import eventually

RETENTION = Retention(
    outbox=timedelta(days=7),
    inbox=timedelta(days=14),
    dead_letters=timedelta(days=30),
    batch_size=1000,
)


async def _outbox_row(engine: AsyncEngine, *, sent_days_ago: float | None, label: str) -> None:
    """A staged event; sent that long ago (None: not sent), created a year ago either way."""
    async with engine.begin() as conn:
        sent = None if sent_days_ago is None else func.now() - timedelta(days=sent_days_ago)
        await conn.execute(
            insert(outbox).values(
                event_id=uuid.uuid4(), topic="order.created", key=label,
                event_type="lvyue.order.created.v1", source="/test", dataschema="x",
                occurred_at=func.now(), payload={}, created_at=func.now() - timedelta(days=365),
                sent_at=sent, first_sent_at=sent,
            )
        )  # fmt: skip


async def _inbox_row(engine: AsyncEngine, *, days_ago: float, event_id: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(inbox).values(
                consumer="inventory",
                event_id=event_id,
                processed_at=func.now() - timedelta(days=days_ago),
            )
        )


async def _dead_letter(engine: AsyncEngine, *, days_ago: float, redriven: bool, key: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(dead_letters).values(
                consumer="inventory", topic="order.created", partition=0, offset=1, key=key,
                error="RuntimeError()", attempts=5, headers={}, value=b"{}",
                created_at=func.now() - timedelta(days=days_ago),
                redriven_at=func.now() if redriven else None,
            )
        )  # fmt: skip


async def _keys(engine: AsyncEngine, column: ColumnElement[Any]) -> list[str]:
    async with engine.connect() as conn:
        return sorted((await conn.execute(select(column))).scalars())


async def test_each_table_keeps_what_is_within_its_retention_and_what_is_still_needed(
    engine: AsyncEngine,
) -> None:
    await _outbox_row(engine, sent_days_ago=8, label="sent 8 days ago")
    await _outbox_row(engine, sent_days_ago=6, label="sent 6 days ago")
    await _outbox_row(engine, sent_days_ago=None, label="never sent")  # created a year ago
    await _inbox_row(engine, days_ago=15, event_id="taken 15 days ago")
    await _inbox_row(engine, days_ago=13, event_id="taken 13 days ago")
    await _dead_letter(engine, days_ago=31, redriven=True, key="redriven, parked 31 days ago")
    await _dead_letter(engine, days_ago=29, redriven=True, key="redriven, parked 29 days ago")
    await _dead_letter(engine, days_ago=400, redriven=False, key="waiting, parked 400 days ago")
    before = {t: metric("lvyue_kernel_rows_pruned_total", table=t) for t in ("outbox", "inbox")}

    deleted = await prune(make_session_factory(engine), RETENTION)

    assert deleted == {"outbox": 1, "inbox": 1, "dead_letters": 1}
    assert await _keys(engine, outbox.c.key) == ["never sent", "sent 6 days ago"]
    assert await _keys(engine, inbox.c.event_id) == ["taken 13 days ago"]
    assert await _keys(engine, dead_letters.c.key) == [
        "redriven, parked 29 days ago",
        "waiting, parked 400 days ago",
    ]
    assert metric("lvyue_kernel_rows_pruned_total", table="outbox") == before["outbox"] + 1
    assert metric("lvyue_kernel_rows_pruned_total", table="inbox") == before["inbox"] + 1
    # Nothing more is past its retention: a second run deletes nothing.
    assert await prune(make_session_factory(engine), RETENTION) == {
        "outbox": 0,
        "inbox": 0,
        "dead_letters": 0,
    }


async def test_a_backlog_is_pruned_a_batch_at_a_time_the_oldest_first(
    engine: AsyncEngine,
) -> None:
    for n in range(5):
        await _inbox_row(engine, days_ago=20 + n, event_id=f"taken {20 + n} days ago")
    small = Retention(
        outbox=RETENTION.outbox, inbox=RETENTION.inbox, dead_letters=RETENTION.dead_letters,
        batch_size=2,
    )  # fmt: skip
    sessions = make_session_factory(engine)
    assert (await prune(sessions, small))["inbox"] == 2
    assert await _keys(engine, inbox.c.event_id) == [
        "taken 20 days ago",
        "taken 21 days ago",
        "taken 22 days ago",
    ]
    assert [(await prune(sessions, small))["inbox"] for _ in range(3)] == [2, 1, 0]
    assert await _keys(engine, inbox.c.event_id) == []


async def test_a_row_the_relay_sends_again_is_aged_from_its_latest_send(
    engine: AsyncEngine,
) -> None:
    """A replay marks an old row unsent, then the relay sends it again: it is kept as if new."""
    await _outbox_row(engine, sent_days_ago=9, label="replayed")
    async with engine.begin() as conn:
        await conn.execute(update(outbox).values(sent_at=None))  # requeued by a replay
    assert (await prune(make_session_factory(engine), RETENTION))["outbox"] == 0
    async with engine.begin() as conn:
        await conn.execute(update(outbox).values(sent_at=func.now()))  # and sent
    assert (await prune(make_session_factory(engine), RETENTION))["outbox"] == 0
    assert await _keys(engine, outbox.c.key) == ["replayed"]


def test_the_inbox_must_outlast_the_outbox_by_a_day() -> None:
    with pytest.raises(ValueError, match=r"LVYUE_INBOX_RETENTION_DAYS \(7\.5\) must be at least"):
        KernelSettings(outbox_retention_days=7, inbox_retention_days=7.5)
    settings = KernelSettings(outbox_retention_days=3, inbox_retention_days=4)
    assert Retention.of(settings).redrivable_for() == timedelta(days=3)


async def test_webhook_deliveries_past_their_retention_are_pruned_by_the_services_job(
    engine: AsyncEngine,
) -> None:
    """order-review's deliveries (aftersales' are the same kernel table): one received 91 days
    ago goes, one of 89 days stays, and the order either made stays."""
    order_ids = []
    async with engine.begin() as conn:
        for days in (91, 89):
            order_id = uuid.uuid4()
            order_ids.append(order_id)
            at = func.now() - timedelta(days=days)
            await conn.execute(
                insert(orders).values(
                    id=order_id, platform="lvyue", shop_id="s", platform_order_id=f"P{days}",
                    status="reviewed", urgent=False, promotion=False, paid_at=at,
                    received_at=at, updated_at=at, order={},
                )
            )  # fmt: skip
            await conn.execute(
                insert(webhook_deliveries).values(
                    platform="lvyue", delivery_id=f"received {days} days ago", order_id=order_id,
                    received_at=at, body='{"receiver": "..."}',
                )
            )  # fmt: skip
    settings = KernelSettings(webhook_delivery_retention_days=90, retention_batch_size=1)
    job = webhook_deliveries_job(webhook_deliveries, settings)
    before = metric("lvyue_kernel_rows_pruned_total", table="webhook_deliveries")
    async with running(job, engine):
        await eventually(
            lambda: _keys(engine, webhook_deliveries.c.delivery_id),
            lambda kept: kept == ["received 89 days ago"],
            timeout_s=10,
        )
    assert metric("lvyue_kernel_rows_pruned_total", table="webhook_deliveries") == before + 1
    async with engine.connect() as conn:
        assert len((await conn.execute(select(orders.c.id))).all()) == 2  # orders stay
