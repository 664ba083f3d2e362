"""All SQL of order-review: it receives a session and returns plain values or domain records."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from lvyue.common.contracts.order import CanonicalOrder
from lvyue.order_review.status import OrderStatus
from lvyue.order_review.tables import order_status_history, orders, webhook_deliveries


@dataclass(frozen=True)
class StatusChange:
    status: str
    at: datetime
    note: str
    details: dict[str, Any]


@dataclass(frozen=True)
class OrderRecord:
    id: uuid.UUID
    status: str
    received_at: datetime
    updated_at: datetime
    order: CanonicalOrder
    history: list[StatusChange]


async def order_for_delivery(
    session: AsyncSession, *, platform: str, delivery_id: str
) -> uuid.UUID | None:
    result = await session.execute(
        select(webhook_deliveries.c.order_id).where(
            webhook_deliveries.c.platform == platform,
            webhook_deliveries.c.delivery_id == delivery_id,
        )
    )
    return result.scalar_one_or_none()


async def insert_order_if_new(
    session: AsyncSession, *, order: CanonicalOrder, received_at: datetime
) -> uuid.UUID | None:
    """Inserts the order unless (platform, shop, platform order id) exists; its new id or None."""
    new_id = uuid.uuid4()
    result = await session.execute(
        insert(orders)
        .values(
            id=new_id,
            platform=order.platform,
            shop_id=order.shop_id,
            platform_order_id=order.platform_order_id,
            status=OrderStatus.PENDING_REVIEW,
            urgent=order.urgent,
            promotion=order.promotion,
            paid_at=order.paid_at,
            received_at=received_at,
            updated_at=received_at,
            order=order.model_dump(mode="json"),
        )
        .on_conflict_do_nothing(index_elements=["platform", "shop_id", "platform_order_id"])
        .returning(orders.c.id)
    )
    inserted: uuid.UUID | None = result.scalar_one_or_none()
    return inserted


async def order_id_for(
    session: AsyncSession, *, platform: str, shop_id: str, platform_order_id: str
) -> uuid.UUID:
    result = await session.execute(
        select(orders.c.id).where(
            orders.c.platform == platform,
            orders.c.shop_id == shop_id,
            orders.c.platform_order_id == platform_order_id,
        )
    )
    order_id: uuid.UUID = result.scalar_one()
    return order_id


async def record_delivery(
    session: AsyncSession,
    *,
    platform: str,
    delivery_id: str,
    order_id: uuid.UUID,
    received_at: datetime,
    body: str,
) -> None:
    await session.execute(
        insert(webhook_deliveries)
        .values(
            platform=platform,
            delivery_id=delivery_id,
            order_id=order_id,
            received_at=received_at,
            body=body,
        )
        .on_conflict_do_nothing()
    )


async def add_status(
    session: AsyncSession,
    *,
    order_id: uuid.UUID,
    status: OrderStatus,
    at: datetime,
    note: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    await session.execute(
        order_status_history.insert().values(
            order_id=order_id, status=status, at=at, note=note, details=details or {}
        )
    )


async def get_order(session: AsyncSession, order_id: uuid.UUID) -> OrderRecord | None:
    row = (await session.execute(select(orders).where(orders.c.id == order_id))).first()
    if row is None:
        return None
    history = await session.execute(
        select(order_status_history)
        .where(order_status_history.c.order_id == order_id)
        .order_by(order_status_history.c.id)
    )
    return OrderRecord(
        id=row.id,
        status=row.status,
        received_at=row.received_at,
        updated_at=row.updated_at,
        order=CanonicalOrder.model_validate(row.order),
        history=[StatusChange(h.status, h.at, h.note, h.details) for h in history],
    )
