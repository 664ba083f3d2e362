"""Order pulls (reconciliation) per shop: the watermark, the outcome of each pull, and when a
shop's notifications last arrived."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from lvyue.common.records import from_row
from lvyue.order_review.tables import order_pulls, orders, webhook_deliveries


@dataclass(frozen=True)
class PullState:
    platform: str
    shop_id: str
    watermark: datetime
    last_success_at: datetime | None
    last_attempt_at: datetime | None
    last_error: str | None
    failing_since: datetime | None
    pulled: int
    reconciled: int
    last_notification_at: datetime | None
    notifications_read_to: datetime | None


async def pull_state(session: AsyncSession, platform: str, shop_id: str) -> PullState | None:
    row = (
        await session.execute(
            select(order_pulls).where(
                order_pulls.c.platform == platform, order_pulls.c.shop_id == shop_id
            )
        )
    ).one_or_none()
    return None if row is None else from_row(PullState, row)


async def advance_pull(
    session: AsyncSession,
    platform: str,
    shop_id: str,
    *,
    watermark: datetime,
    at: datetime,
    pulled: int,
    reconciled: int,
) -> None:
    """The pull reached `watermark`: in the transaction that committed what it found."""
    statement = insert(order_pulls).values(
        platform=platform, shop_id=shop_id, watermark=watermark, last_success_at=at,
        last_attempt_at=at, pulled=pulled, reconciled=reconciled,
    )  # fmt: skip
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[order_pulls.c.platform, order_pulls.c.shop_id],
            set_={
                "watermark": func.greatest(order_pulls.c.watermark, watermark),
                "last_success_at": at,
                "last_attempt_at": at,
                "last_error": None,
                "failing_since": None,
                "pulled": order_pulls.c.pulled + pulled,
                "reconciled": order_pulls.c.reconciled + reconciled,
            },
        )
    )


async def record_pull_failure(
    session: AsyncSession, platform: str, shop_id: str, *, at: datetime, error: str, start: datetime
) -> None:
    """A pull that failed: the watermark stays (`start` seeds it for a shop never pulled)."""
    statement = insert(order_pulls).values(
        platform=platform, shop_id=shop_id, watermark=start, last_attempt_at=at,
        last_error=error[:500], failing_since=at,
    )  # fmt: skip
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[order_pulls.c.platform, order_pulls.c.shop_id],
            set_={
                "last_attempt_at": at,
                "last_error": error[:500],
                "failing_since": func.coalesce(order_pulls.c.failing_since, at),
            },
        )
    )


async def latest_webhooks(
    session: AsyncSession, platform: str, *, since: datetime | None
) -> dict[str, datetime]:
    """Per shop of the platform: when its latest webhook (a notification) received at or after
    `since` arrived; with None, of every webhook still kept."""
    query = (
        select(orders.c.shop_id, func.max(webhook_deliveries.c.received_at).label("latest"))
        .join(orders, orders.c.id == webhook_deliveries.c.order_id)
        .where(
            webhook_deliveries.c.platform == platform,
            ~webhook_deliveries.c.delivery_id.startswith(PULL_DELIVERY_PREFIX),
        )
        .group_by(orders.c.shop_id)
    )
    if since is not None:
        query = query.where(webhook_deliveries.c.received_at >= since)
    return {row.shop_id: row.latest for row in await session.execute(query)}


async def record_notifications_read(
    session: AsyncSession, platform: str, shop_id: str, *, latest: datetime | None, at: datetime
) -> None:
    """The shop's deliveries were read up to `at`; the latest notification among them, if any,
    is kept unless an earlier read kept a later one."""
    values: dict[str, object] = {"notifications_read_to": at}
    if latest is not None:
        values["last_notification_at"] = func.greatest(order_pulls.c.last_notification_at, latest)
    await session.execute(
        update(order_pulls)
        .where(order_pulls.c.platform == platform, order_pulls.c.shop_id == shop_id)
        .values(values)
    )


PULL_DELIVERY_PREFIX = "pull:"  # a delivery the reconciliation made, not the platform
