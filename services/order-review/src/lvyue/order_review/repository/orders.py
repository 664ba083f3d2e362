"""Orders as delivered and stored: intake's batch insert, webhook deliveries, the status
history, reads of one order and the stalled-orders count."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    Boolean,
    DateTime,
    Text,
    Uuid,
    bindparam,
    func,
    null,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from lvyue.common.contracts.order import CanonicalOrder, Receiver, accepted
from lvyue.common.sql import any_of
from lvyue.common.webhooks.deliveries import Delivery, made_by
from lvyue.common.webhooks.deliveries import record_delivery as record
from lvyue.order_review.domain.rules.acceptance import Acceptance
from lvyue.order_review.domain.status import OrderStatus
from lvyue.order_review.tables import (
    order_status_history,
    orders,
    webhook_deliveries,
)


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
    acceptances: tuple[Acceptance, ...] = ()


async def order_for_delivery(
    session: AsyncSession, *, platform: str, delivery_id: str
) -> uuid.UUID | None:
    return await made_by(session, webhook_deliveries, platform=platform, delivery_id=delivery_id)


@dataclass(frozen=True)
class NewOrder:
    """An order as a webhook delivered it, to be stored unless it or the delivery is known."""

    id: uuid.UUID
    order: CanonicalOrder
    delivery_platform: str
    delivery_id: str
    body: str


# One round trip for a batch of new orders: each order, its first status and the delivery that
# brought it. An order is skipped when its delivery was received before or (platform, shop,
# platform order id) exists already, also earlier in the same batch. Rows go in key order so
# two transactions inserting the same orders wait for each other instead of deadlocking.
_INSERT_NEW_ORDERS = text(
    """
    WITH wanted AS (
        SELECT * FROM unnest(:ids, :platforms, :shop_ids, :platform_order_ids, :urgent,
                             :promotion, :paid_at, :orders, :delivery_platforms,
                             :delivery_ids, :bodies)
            AS w(id, platform, shop_id, platform_order_id, urgent, promotion, paid_at,
                 "order", delivery_platform, delivery_id, body)
    ), new_order AS (
        INSERT INTO orders (id, platform, shop_id, platform_order_id, status, urgent, promotion,
                            paid_at, received_at, updated_at, "order")
        SELECT w.id, w.platform, w.shop_id, w.platform_order_id, :status, w.urgent,
               w.promotion, w.paid_at, :received_at, :received_at, w."order"::jsonb
        FROM wanted AS w
        WHERE NOT EXISTS (
            SELECT FROM webhook_deliveries AS d
            WHERE d.platform = w.delivery_platform AND d.delivery_id = w.delivery_id)
        ORDER BY w.platform, w.shop_id, w.platform_order_id
        ON CONFLICT (platform, shop_id, platform_order_id) DO NOTHING
        RETURNING id
    ), first_status AS (
        INSERT INTO order_status_history (order_id, status, at)
        SELECT id, :status, :received_at FROM new_order
    ), delivery AS (
        INSERT INTO webhook_deliveries (platform, delivery_id, order_id, received_at, body)
        SELECT w.delivery_platform, w.delivery_id, n.id, :received_at, w.body
        FROM new_order AS n JOIN wanted AS w USING (id)
        ON CONFLICT DO NOTHING
    )
    SELECT id FROM new_order
    """
).bindparams(
    bindparam("ids", type_=ARRAY(Uuid)),
    bindparam("platforms", type_=ARRAY(Text)),
    bindparam("shop_ids", type_=ARRAY(Text)),
    bindparam("platform_order_ids", type_=ARRAY(Text)),
    bindparam("urgent", type_=ARRAY(Boolean)),
    bindparam("promotion", type_=ARRAY(Boolean)),
    bindparam("paid_at", type_=ARRAY(DateTime(timezone=True))),
    bindparam("orders", type_=ARRAY(Text)),
    bindparam("delivery_platforms", type_=ARRAY(Text)),
    bindparam("delivery_ids", type_=ARRAY(Text)),
    bindparam("bodies", type_=ARRAY(Text)),
    bindparam("received_at", type_=DateTime(timezone=True)),
)


async def insert_new_orders(
    session: AsyncSession, new: Sequence[NewOrder], *, received_at: datetime
) -> set[uuid.UUID]:
    """Inserts each order (pending review) and its delivery unless the delivery is known or
    (platform, shop, platform order id) exists; the ids of those inserted."""
    if not new:
        return set()
    result = await session.execute(
        _INSERT_NEW_ORDERS,
        {
            "ids": [n.id for n in new],
            "platforms": [n.order.platform for n in new],
            "shop_ids": [n.order.shop_id for n in new],
            "platform_order_ids": [n.order.platform_order_id for n in new],
            "urgent": [n.order.urgent for n in new],
            "promotion": [n.order.promotion for n in new],
            "paid_at": [n.order.paid_at for n in new],
            # pydantic's own serializer: the same JSON as model_dump(mode="json"), faster
            "orders": [n.order.model_dump_json() for n in new],
            "delivery_platforms": [n.delivery_platform for n in new],
            "delivery_ids": [n.delivery_id for n in new],
            "bodies": [n.body for n in new],
            "status": OrderStatus.PENDING_REVIEW,
            "received_at": received_at,
        },
    )
    return set(result.scalars())


async def order_id_for(
    session: AsyncSession, *, platform: str, shop_id: str, platform_order_id: str
) -> uuid.UUID | None:
    """Our id of the platform's order, None when lvyue never accepted it."""
    result = await session.execute(
        select(orders.c.id).where(
            orders.c.platform == platform,
            orders.c.shop_id == shop_id,
            orders.c.platform_order_id == platform_order_id,
        )
    )
    order_id: uuid.UUID | None = result.scalar_one_or_none()
    return order_id


async def record_delivery(
    session: AsyncSession, delivery: Delivery, *, order_id: uuid.UUID, received_at: datetime
) -> None:
    await record(session, webhook_deliveries, delivery, made=order_id, received_at=received_at)


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
        order=CanonicalOrder.model_validate(row.order, context=accepted()),
        history=[StatusChange(h.status, h.at, h.note, h.details) for h in history],
        acceptances=tuple(Acceptance.from_json(a) for a in row.acceptances),
    )


async def replace_order(
    session: AsyncSession,
    *,
    order_id: uuid.UUID,
    order: CanonicalOrder,
    at: datetime,
    by_platform: bool,
) -> None:
    """The order as corrected. By the platform (the buyer's change), its receiver is the
    platform's again; by an operator, the platform's receiver is kept apart first (unless kept
    already), so a pull reading the platform's order again does not take it for a change."""
    # In an UPDATE, the columns on the right are the row's values before it.
    kept = func.coalesce(orders.c.platform_receiver, orders.c.order["receiver"])
    await session.execute(
        update(orders)
        .where(orders.c.id == order_id)
        .values(
            order=order.model_dump(mode="json"),
            urgent=order.urgent,
            promotion=order.promotion,
            updated_at=at,
            platform_receiver=null() if by_platform else kept,
        )
    )


async def set_platform_receiver(
    session: AsyncSession, order_id: uuid.UUID, receiver: Receiver | None
) -> None:
    """The platform's receiver where the order keeps another; None: the order's is the
    platform's."""
    value = null() if receiver is None else receiver.model_dump(mode="json")
    await session.execute(
        update(orders).where(orders.c.id == order_id).values(platform_receiver=value)
    )


async def platform_receiver(session: AsyncSession, order_id: uuid.UUID) -> Receiver | None:
    """The receiver the platform last gave for the order (its own, unless kept apart)."""
    known = await session.scalar(
        select(func.coalesce(orders.c.platform_receiver, orders.c.order["receiver"])).where(
            orders.c.id == order_id
        )
    )
    return None if known is None else Receiver.model_validate(known, context=accepted())


async def platform_receivers(
    session: AsyncSession, *, platform: str, shop_id: str, platform_order_ids: Sequence[str]
) -> dict[str, tuple[uuid.UUID, Receiver]]:
    """platform_receiver for the shop's orders lvyue holds among `platform_order_ids`, by
    platform order id, with our id."""
    if not platform_order_ids:
        return {}
    rows = await session.execute(
        select(
            orders.c.platform_order_id,
            orders.c.id,
            func.coalesce(orders.c.platform_receiver, orders.c.order["receiver"]),
        ).where(
            orders.c.platform == platform,
            orders.c.shop_id == shop_id,
            any_of(orders.c.platform_order_id, platform_order_ids),
        )
    )
    return {
        platform_order_id: (order_id, Receiver.model_validate(known, context=accepted()))
        for platform_order_id, order_id, known in rows.all()
    }


async def unchanged_since(
    session: AsyncSession, statuses: Sequence[str], cutoff: datetime
) -> dict[str, int]:
    """How many orders in each of `statuses` have not changed since `cutoff`."""
    rows = await session.execute(
        select(orders.c.status, func.count())
        .where(orders.c.status.in_(statuses), orders.c.updated_at < cutoff)
        .group_by(orders.c.status)
    )
    return {status: int(n) for status, n in rows.all()}


CANCEL_AFTER_DISPATCH = "platform_cancelled_after_dispatch"  # the history detail marking it


async def cancel_after_dispatch_reported(session: AsyncSession, order_id: uuid.UUID) -> bool:
    """Whether the order's history already holds the platform's cancellation after dispatch."""
    found = await session.scalar(
        select(func.count())
        .select_from(order_status_history)
        .where(
            order_status_history.c.order_id == order_id,
            order_status_history.c.details.contains({CANCEL_AFTER_DISPATCH: True}),
        )
    )
    return bool(found)
