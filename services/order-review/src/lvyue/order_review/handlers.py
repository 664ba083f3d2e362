"""order-review's event handlers: a stock outcome from inventory (reviewed or flagged, see
review.py) and a shipment dispatched. The consumer runner commits; handlers never do."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import structlog

from lvyue.common.consumer import Subscription
from lvyue.common.events import Envelope
from lvyue.common.events.catalog import (
    INVENTORY_REJECTED,
    INVENTORY_RESERVED,
    ORDER_SHIPPED,
    InventoryRejected,
    InventoryReserved,
    OrderShipped,
)
from lvyue.common.uow import UnitOfWork
from lvyue.order_review import repository
from lvyue.order_review.domain.status import OrderStatus
from lvyue.order_review.domain.transitions import Action, allowed
from lvyue.order_review.repository import ReviewState
from lvyue.order_review.review import ReviewContext, decide, decide_all

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class StockAnswer:
    """inventory.reserved or inventory.rejected, as review keeps it."""

    order_id: uuid.UUID
    stock_status: str
    stock: dict[str, Any]
    warehouse_id: str

    @classmethod
    def of(cls, event: Envelope) -> StockAnswer:
        if event.type == INVENTORY_RESERVED.ce_type:
            reserved = event.payload(InventoryReserved)
            return cls(reserved.order_id, "reserved", reserved.model_dump(mode="json"),
                       reserved.warehouse_id)  # fmt: skip
        rejected = event.payload(InventoryRejected)
        return cls(rejected.order_id, "rejected", rejected.model_dump(mode="json"),
                   rejected.warehouse_id)  # fmt: skip


def _with_answer(state: ReviewState | None, answer: StockAnswer) -> ReviewState | None:
    """The order with its stock outcome, or None when it no longer waits for one."""
    if state is None or not allowed(Action.APPLY_STOCK_OUTCOME, state.status):
        # e.g. cancelled meanwhile: inventory releases on order.cancelled; nothing to review
        log.info(
            "stock_outcome_ignored",
            order_id=str(answer.order_id),
            status=getattr(state, "status", None),
        )
        return None
    return replace(
        state,
        stock_status=answer.stock_status,
        stock=answer.stock,
        warehouse_id=answer.warehouse_id,
    )


async def apply_stock(uow: UnitOfWork, ctx: ReviewContext, answer: StockAnswer) -> None:
    state = _with_answer(await repository.lock_order(uow.session, answer.order_id), answer)
    if state is not None:
        await decide(state, uow, ctx, record_stock=True)


async def apply_stock_all(
    uow: UnitOfWork, ctx: ReviewContext, answers: Sequence[StockAnswer]
) -> None:
    """apply_stock for a poll's answers at once; an order answered twice in one poll (an
    updated order reserved again) is judged in turn instead, one answer at a time."""
    ids = [a.order_id for a in answers]
    if len(set(ids)) < len(ids):
        for answer in answers:
            await apply_stock(uow, ctx, answer)
        return
    locked = await repository.lock_orders(uow.session, ids)
    states = [_with_answer(locked.get(a.order_id), a) for a in answers]
    await decide_all([s for s in states if s is not None], uow, ctx)


def subscriptions(ctx: ReviewContext) -> list[Subscription]:
    """Every event order-review handles, bound to this process's review context."""

    async def one(event: Envelope, uow: UnitOfWork) -> None:
        await apply_stock(uow, ctx, StockAnswer.of(event))

    async def many(events: Sequence[Envelope], uow: UnitOfWork) -> None:
        await apply_stock_all(uow, ctx, [StockAnswer.of(e) for e in events])

    return [
        Subscription(INVENTORY_RESERVED, one, batch_handler=many),
        Subscription(INVENTORY_REJECTED, one, batch_handler=many),
        Subscription(ORDER_SHIPPED, on_shipped),
    ]


async def on_shipped(event: Envelope, uow: UnitOfWork) -> None:
    shipped = event.payload(OrderShipped)
    state = await repository.lock_order(uow.session, shipped.order_id)
    if state is None or not allowed(Action.MARK_SHIPPED, state.status):
        log.warning("shipped_event_ignored", order_id=str(shipped.order_id))
        return
    await repository.set_status(
        uow.session,
        order_id=state.id,
        status=OrderStatus.SHIPPED,
        at=uow.clock.now(),
        note=f"{shipped.carrier} {shipped.tracking_number}",
    )
