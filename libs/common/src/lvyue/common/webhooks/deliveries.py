"""The webhook deliveries a service keeps: each (platform, delivery id) once, with what it made
of it and the raw body for audit and replay.

order-review's deliveries make orders and aftersales' make after-sale cases: the table is the
same in both databases but for the column naming what was made, so it is built here, and a
delivery is recorded the same way. A delivery seen before is the platform retrying: the
route answers with what the first one made instead of making it again.

A delivery is kept `LVYUE_WEBHOOK_DELIVERY_RETENTION_DAYS` (`lvyue.common.retention`): far past
any platform's retries, and the raw body holds the buyer's contact data. A delivery retried
even later is still made once: what it made is found again by its natural key (the platform's
order or after-sale id).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Column,
    Delete,
    ForeignKey,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    Uuid,
    select,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from lvyue.common.sql import delete_first
from lvyue.common.tables import TZ

_MADE = "made"  # the key in Table.info naming the column of what a delivery made


@dataclass(frozen=True)
class Delivery:
    """One webhook delivery, as the platform identified it."""

    platform: str  # the webhook dialect, e.g. "lvyue"
    delivery_id: str
    body: str  # the raw webhook


def webhook_deliveries(metadata: MetaData, *, made: str, made_table: str) -> Table:
    """The service's `webhook_deliveries` table; `made` is the column (e.g. "order_id") that
    references `made_table`'s id."""
    return Table(
        "webhook_deliveries",
        metadata,
        Column("platform", Text, nullable=False),
        Column("delivery_id", Text, nullable=False),
        Column(made, Uuid, ForeignKey(f"{made_table}.id"), nullable=False),
        Column("received_at", TZ, nullable=False),
        Column("body", Text, nullable=False),  # the raw webhook, kept for audit and replay
        PrimaryKeyConstraint("platform", "delivery_id"),
        Index("ix_webhook_deliveries_received_at", "received_at"),  # pruned the oldest first
        info={_MADE: made},
    )


def prune_deliveries(deliveries: Table, *, received_before: datetime, limit: int) -> Delete:
    """Deletes up to `limit` deliveries received before `received_before` (by the service's
    clock, which stamped them), the oldest first."""
    old = deliveries.c.received_at < received_before
    return delete_first(deliveries, old, order_by=deliveries.c.received_at, limit=limit)


async def record_delivery(
    session: AsyncSession,
    deliveries: Table,
    delivery: Delivery,
    *,
    made: uuid.UUID,
    received_at: datetime,
) -> None:
    """Records a delivery and what it made; one already recorded stays as it is."""
    await session.execute(
        insert(deliveries)
        .values(
            {
                "platform": delivery.platform,
                "delivery_id": delivery.delivery_id,
                deliveries.info[_MADE]: made,
                "received_at": received_at,
                "body": delivery.body,
            }
        )
        .on_conflict_do_nothing()
    )


async def made_by(
    session: AsyncSession, deliveries: Table, *, platform: str, delivery_id: str
) -> uuid.UUID | None:
    """What the delivery made, if it was recorded before."""
    made = deliveries.c[deliveries.info[_MADE]]
    result = await session.execute(
        select(made).where(
            deliveries.c.platform == platform, deliveries.c.delivery_id == delivery_id
        )
    )
    found: uuid.UUID | None = result.scalar_one_or_none()
    return found
