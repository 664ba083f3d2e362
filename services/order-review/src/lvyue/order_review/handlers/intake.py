"""Order-review's handlers: one small async function per command or event."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from lvyue.common.contracts.order import CanonicalOrder
from lvyue.common.deadlines.sla import SlaPolicies
from lvyue.common.deadlines.store import open_deadline
from lvyue.common.events.catalog import ORDER_CREATED, OrderCreated
from lvyue.common.uow import UnitOfWork
from lvyue.order_review import repository


@dataclass(frozen=True)
class AcceptOrder:
    platform: str
    delivery_id: str
    order: CanonicalOrder
    raw_body: str


@dataclass(frozen=True)
class Accepted:
    order_id: uuid.UUID
    created: bool  # False: a repeated delivery of an order already accepted


async def stage_order(
    cmd: AcceptOrder, uow: UnitOfWork, sla: SlaPolicies, shop_tz: ZoneInfo | None = None
) -> Accepted:
    """Stores a webhook's order and its order.created event, at most once, in the caller's
    transaction: intake commits several concurrent webhooks together (group commit) and
    answers each only after that commit."""
    now = uow.clock.now()
    order_id = await repository.insert_order_if_new(
        uow.session,
        order=cmd.order,
        received_at=now,
        delivery_platform=cmd.platform,
        delivery_id=cmd.delivery_id,
        body=cmd.raw_body,
    )
    created = order_id is not None
    if order_id is None:
        known = await repository.order_for_delivery(
            uow.session, platform=cmd.platform, delivery_id=cmd.delivery_id
        )
        if known is not None:  # this very delivery, again
            return Accepted(known, created=False)
        # the same order by another delivery: remember this one too
        order_id = await repository.order_id_for(
            uow.session,
            platform=cmd.order.platform,
            shop_id=cmd.order.shop_id,
            platform_order_id=cmd.order.platform_order_id,
        )
        await repository.record_delivery(
            uow.session,
            platform=cmd.platform,
            delivery_id=cmd.delivery_id,
            order_id=order_id,
            received_at=now,
            body=cmd.raw_body,
        )
    else:
        # rule review_by_0900: reviewed (or flagged) by 09:00 the day after payment
        await open_deadline(
            uow,
            sla="review_by_0900",
            subject=str(order_id),
            opened_at=now,
            due_at=sla.due_at("review_by_0900", cmd.order.paid_at, tz=shop_tz),
        )
        await uow.emit(
            ORDER_CREATED,
            OrderCreated(order_id=order_id, received_at=now, order=cmd.order),
            subject=str(order_id),
        )
    return Accepted(order_id, created=created)
