"""order-review's own intake records pruned by its jobs against the real PostgreSQL: platform
notifications done with and older than the retention go; one still being fetched stays,
however old, and so does a recent one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.common.db import make_session_factory
from lvyue.common.settings import Environment
from lvyue.order_review import repository
from lvyue.order_review.jobs import jobs
from lvyue.order_review.repository import NewNotification
from lvyue.order_review.settings import OrderReviewSettings
from lvyue.order_review.tables import order_notifications
from tests.support.jobs import running
from tests.support.metrics import metric
from tests.support.polling import eventually


async def _notified(engine: AsyncEngine, message_id: str, *, days_ago: float, done: bool) -> None:
    at = datetime.now(UTC) - timedelta(days=days_ago)
    sessions = make_session_factory(engine)
    async with sessions() as session, session.begin():
        found = NewNotification("douyin", message_id, "4463798", f"O-{message_id}", "paid")
        await repository.record_notifications(session, [found], received_at=at)
        if done:
            [row] = (
                await session.execute(
                    select(order_notifications.c.id).where(
                        order_notifications.c.message_id == message_id
                    )
                )
            ).all()
            await repository.finish_notifications(session, [row.id], at=at)


async def _kept(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        return sorted((await conn.execute(select(order_notifications.c.message_id))).scalars())


async def test_notifications_done_with_are_pruned_past_the_retention_pending_ones_stay(
    engine: AsyncEngine,
) -> None:
    await _notified(engine, "done 91 days ago", days_ago=91, done=True)
    await _notified(engine, "done 89 days ago", days_ago=89, done=True)
    await _notified(engine, "pending since 200 days", days_ago=200, done=False)
    settings = OrderReviewSettings(env=Environment.TEST, webhook_delivery_retention_days=90)
    every_job = jobs(settings, review=None)  # type: ignore[arg-type]  # no pulls configured
    [job] = [j for j in every_job if j.__name__ == "prune_order_notifications"]
    before = metric("lvyue_kernel_rows_pruned_total", table="order_notifications")
    async with running(job, engine):
        await eventually(
            lambda: _kept(engine),
            lambda kept: kept == ["done 89 days ago", "pending since 200 days"],
            timeout_s=10,
        )
    assert metric("lvyue_kernel_rows_pruned_total", table="order_notifications") == before + 1
