"""Platform notifications: stored once per message, claimed by the fetch job for a while (so a
second process passes them by), finished with the order they announced, or tried again later."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Delete, and_, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from lvyue.common.records import from_row
from lvyue.common.sql import any_of, delete_first
from lvyue.order_review.tables import order_notifications as n


@dataclass(frozen=True)
class NewNotification:
    platform: str
    message_id: str
    shop_id: str
    platform_order_id: str
    kind: str  # what it announces: paid, created, cancelled, address_changed, refunded, ...


@dataclass(frozen=True)
class PendingNotification:
    id: int
    platform: str
    shop_id: str
    platform_order_id: str
    kind: str
    attempts: int


async def record_notifications(
    session: AsyncSession, found: Sequence[NewNotification], *, received_at: datetime
) -> set[str]:
    """Stores the notifications; the message ids that were new (a repeat is stored once)."""
    if not found:
        return set()
    rows = [vars(item) | {"received_at": received_at, "due_at": received_at} for item in found]
    inserted = await session.execute(
        insert(n).values(rows).on_conflict_do_nothing().returning(n.c.message_id)
    )
    return set(inserted.scalars())


async def claim_notifications(
    session: AsyncSession, *, now: datetime, limit: int, lease: timedelta
) -> list[PendingNotification]:
    """Notifications due, oldest first, hidden from other claims for `lease`."""
    due = (
        select(n.c.id)
        .where(n.c.done_at.is_(None), n.c.due_at <= now)
        .order_by(n.c.due_at, n.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    rows = await session.execute(
        update(n)
        .where(n.c.id.in_(due))
        .values(due_at=now + lease, attempts=n.c.attempts + 1)
        .returning(n.c.id, n.c.platform, n.c.shop_id, n.c.platform_order_id, n.c.kind, n.c.attempts)
    )
    return sorted((from_row(PendingNotification, row) for row in rows), key=lambda p: p.id)


async def finish_notifications(session: AsyncSession, ids: Sequence[int], *, at: datetime) -> None:
    if ids:
        await session.execute(
            update(n).where(any_of(n.c.id, ids)).values(done_at=at, last_error=None)
        )


async def retry_notifications(
    session: AsyncSession, ids: Sequence[int], *, error: str, due_at: datetime
) -> None:
    if ids:
        await session.execute(
            update(n).where(any_of(n.c.id, ids)).values(due_at=due_at, last_error=error[:500])
        )


async def notified_orders(
    session: AsyncSession, platform: str, shop_id: str, platform_order_ids: Sequence[str]
) -> set[str]:
    """Of these orders, the ones a notification announced."""
    if not platform_order_ids:
        return set()
    rows = await session.execute(
        select(n.c.platform_order_id)
        .distinct()
        .where(
            n.c.platform == platform,
            n.c.shop_id == shop_id,
            any_of(n.c.platform_order_id, platform_order_ids),
        )
    )
    return set(rows.scalars())


async def last_notification(session: AsyncSession, platform: str, shop_id: str) -> datetime | None:
    """When the shop's latest notification arrived."""
    latest: datetime | None = await session.scalar(
        select(func.max(n.c.received_at)).where(n.c.platform == platform, n.c.shop_id == shop_id)
    )
    return latest


async def pending_notifications(
    session: AsyncSession,
) -> dict[tuple[str, str], tuple[int, datetime]]:
    """Notifications not yet taken, per (platform, shop): how many, and the oldest's arrival."""
    rows = await session.execute(
        select(n.c.platform, n.c.shop_id, func.count(), func.min(n.c.received_at))
        .where(n.c.done_at.is_(None))
        .group_by(n.c.platform, n.c.shop_id)
    )
    return {(platform, shop): (count, oldest) for platform, shop, count, oldest in rows}


def prune_done_notifications(received_before: datetime, limit: int) -> Delete:
    """Deletes up to `limit` notifications done with and received before `received_before`,
    the oldest first; one still being fetched stays."""
    done = and_(n.c.done_at.is_not(None), n.c.received_at < received_before)
    return delete_first(n, done, order_by=n.c.received_at, limit=limit)
