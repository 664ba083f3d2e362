"""Intake: storing webhooks' orders, at most once each, with their order.created events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from lvyue.common.contracts.order import CanonicalOrder
from lvyue.common.deadlines.store import NewDeadline, open_many
from lvyue.common.events.catalog import ORDER_CREATED, OrderCreated
from lvyue.common.uow import UnitOfWork
from lvyue.common.webhooks.deliveries import Delivery
from lvyue.order_review import repository
from lvyue.order_review.domain.slas import REVIEW_SLA


@dataclass(frozen=True)
class AcceptOrder:
    platform: str
    delivery_id: str
    order: CanonicalOrder
    raw_body: str
    review_due: datetime  # the review_by_0900 deadline, by the shop's own clock


@dataclass(frozen=True)
class Accepted:
    order_id: uuid.UUID
    created: bool  # False: a repeated delivery of an order already accepted


async def stage_orders(uow: UnitOfWork, cmds: Sequence[AcceptOrder]) -> list[Accepted]:
    """Stores webhooks' orders and their order.created events in the caller's transaction:
    intake commits concurrent webhooks together (group commit) and answers each only after
    that commit. New orders take one statement for the whole batch; a repeat (a delivery seen
    before, or the same order by another delivery) is then resolved on its own."""
    now = uow.clock.now()
    new = [
        repository.NewOrder(uuid.uuid4(), cmd.order, cmd.platform, cmd.delivery_id, cmd.raw_body)
        for cmd in cmds
    ]
    inserted = await repository.insert_new_orders(uow.session, new, received_at=now)
    await open_many(
        uow,
        [
            NewDeadline(REVIEW_SLA, str(row.id), now, cmd.review_due)
            for row, cmd in zip(new, cmds, strict=True)
            if row.id in inserted
        ],
    )
    accepted: list[Accepted] = []
    for row, cmd in zip(new, cmds, strict=True):
        if row.id in inserted:
            await uow.emit(
                ORDER_CREATED,
                OrderCreated(order_id=row.id, received_at=now, order=cmd.order),
                subject=str(row.id),
            )
            accepted.append(Accepted(row.id, created=True))
        else:
            accepted.append(await _repeat(uow, cmd, now))
    return accepted


async def _repeat(uow: UnitOfWork, cmd: AcceptOrder, now: datetime) -> Accepted:
    """A webhook whose order exists: this very delivery again, or the order by another one
    (remembered too, so its next repeat is answered at once)."""
    known = await repository.order_for_delivery(
        uow.session, platform=cmd.platform, delivery_id=cmd.delivery_id
    )
    if known is not None:
        return Accepted(known, created=False)
    order_id = await repository.order_id_for(
        uow.session,
        platform=cmd.order.platform,
        shop_id=cmd.order.shop_id,
        platform_order_id=cmd.order.platform_order_id,
    )
    if order_id is None:  # the insert met a conflict: the order exists, committed or not
        raise RuntimeError(f"order {cmd.order.platform_order_id} neither inserted nor found")
    delivery = Delivery(cmd.platform, cmd.delivery_id, cmd.raw_body)
    await repository.record_delivery(uow.session, delivery, order_id=order_id, received_at=now)
    return Accepted(order_id, created=False)
