"""SQL for the orders aftersales has heard of (from order.reviewed, order.shipped and
order.receiver_changed)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from lvyue.aftersales.repository.records import KnownOrder, order_record
from lvyue.aftersales.tables import orders, refunds
from lvyue.common.contracts.order import CanonicalOrder, Receiver
from lvyue.common.events.catalog import StockLine

_INSERT = insert(orders)
_REVIEWED_COLUMNS = (
    "platform", "shop_id", "platform_order_id", "receiver", "lines", "paid_total", "currency",
    "reviewed_at", "updated_at",
)  # fmt: skip
_SHIPPED_COLUMNS = ("warehouse_id", "shipped_at", "shipped_lines", "updated_at")
# Built once (values come with each execution, compiled once). Each upsert sets only its own
# columns: order.reviewed and order.shipped may arrive in either order.
_REMEMBER_REVIEWED = _INSERT.on_conflict_do_update(
    index_elements=["order_id"],
    set_={
        **{name: _INSERT.excluded[name] for name in _REVIEWED_COLUMNS},
        "warehouse_id": func.coalesce(orders.c.warehouse_id, _INSERT.excluded.warehouse_id),
        # a receiver the buyer changed since review is newer than the review's
        "receiver": case(
            (orders.c.receiver_changed_at.is_(None), _INSERT.excluded.receiver),
            else_=orders.c.receiver,
        ),
    },
)
_CHANGED_COLUMNS = ("receiver", "receiver_changed_at", "updated_at")
_REMEMBER_RECEIVER = _INSERT.on_conflict_do_update(
    index_elements=["order_id"],
    set_={name: _INSERT.excluded[name] for name in _CHANGED_COLUMNS},
    where=func.coalesce(orders.c.receiver_changed_at < _INSERT.excluded.receiver_changed_at, True),
)
_REMEMBER_SHIPPED = _INSERT.on_conflict_do_update(
    index_elements=["order_id"],
    set_={name: _INSERT.excluded[name] for name in _SHIPPED_COLUMNS},
)


@dataclass(frozen=True)
class ReviewedOrder:
    order_id: uuid.UUID
    order: CanonicalOrder
    warehouse_id: str
    reviewed_at: datetime


async def remember_reviewed(
    session: AsyncSession, reviewed: Sequence[ReviewedOrder], *, at: datetime
) -> None:
    """Stores the orders' details, one round trip for all; a shipment seen first keeps its
    warehouse and time."""
    if not reviewed:
        return
    await session.execute(
        _REMEMBER_REVIEWED,
        [
            {
                "order_id": r.order_id,
                "warehouse_id": r.warehouse_id,
                "created_at": at,
                "platform": r.order.platform,
                "shop_id": r.order.shop_id,
                "platform_order_id": r.order.platform_order_id,
                "receiver": r.order.receiver.model_dump(mode="json"),
                "lines": [line.model_dump(mode="json") for line in r.order.lines],
                "paid_total": r.order.amounts.paid_total,
                "currency": r.order.amounts.currency,
                "reviewed_at": r.reviewed_at,
                "updated_at": at,
            }
            for r in reviewed
        ],
    )


async def remember_shipped(
    session: AsyncSession,
    *,
    order_id: uuid.UUID,
    warehouse_id: str,
    lines: Sequence[StockLine],
    shipped_at: datetime,
    at: datetime,
) -> None:
    """Marks the order dispatched; the shipping warehouse is where returns go back to."""
    await session.execute(
        _REMEMBER_SHIPPED,
        {
            "order_id": order_id,
            "created_at": at,
            "warehouse_id": warehouse_id,
            "shipped_at": shipped_at,
            "shipped_lines": [line.model_dump(mode="json") for line in lines],
            "updated_at": at,
        },
    )


async def get_order(
    session: AsyncSession, order_id: uuid.UUID, *, lock: bool = False
) -> KnownOrder | None:
    """The order; with lock, its row stays locked to the transaction (refund arithmetic)."""
    query = select(orders).where(orders.c.order_id == order_id)
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    return order_record(row) if row is not None else None


async def find_order(
    session: AsyncSession, *, platform: str, shop_id: str, platform_order_id: str
) -> KnownOrder | None:
    row = (
        await session.execute(
            select(orders).where(
                orders.c.platform == platform,
                orders.c.shop_id == shop_id,
                orders.c.platform_order_id == platform_order_id,
            )
        )
    ).first()
    return order_record(row) if row is not None else None


async def shop_of_platform_order(
    session: AsyncSession, *, platform: str, platform_order_id: str
) -> str | None:
    """The shop of the platform's order, found by (platform, platform_order_id) alone;
    None when unknown, or when several shops' orders share the id (it is then ambiguous)."""
    rows = (
        await session.execute(
            select(orders.c.shop_id)
            .where(
                orders.c.platform == platform,
                orders.c.platform_order_id == platform_order_id,
            )
            .limit(2)
        )
    ).all()
    return rows[0].shop_id if len(rows) == 1 else None


async def refunded_total(session: AsyncSession, order_id: uuid.UUID) -> Decimal:
    total = (
        await session.execute(
            select(func.coalesce(func.sum(refunds.c.amount), 0)).where(
                refunds.c.order_id == order_id
            )
        )
    ).scalar_one()
    return Decimal(total)


async def remember_receiver(
    session: AsyncSession, *, order_id: uuid.UUID, receiver: Receiver, changed_at: datetime,
    at: datetime,
) -> None:  # fmt: skip
    """The buyer's latest receiver (an older change arriving later changes nothing)."""
    await session.execute(
        _REMEMBER_RECEIVER,
        {
            "order_id": order_id,
            "receiver": receiver.model_dump(mode="json"),
            "receiver_changed_at": changed_at,
            "created_at": at,
            "updated_at": at,
        },
    )
