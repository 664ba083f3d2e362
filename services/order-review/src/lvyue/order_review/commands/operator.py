"""Operator commands on the abnormal queue: record a contact, correct an order, cancel it."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from lvyue.common.contracts.order import CanonicalOrder, OrderLine, Receiver, accepted
from lvyue.common.deadlines.store import cancel_deadline, close_deadline
from lvyue.common.events.catalog import (
    ORDER_CANCELLED,
    ORDER_UPDATED,
    OrderCancelled,
    OrderUpdated,
)
from lvyue.common.uow import UnitOfWork
from lvyue.order_review import repository
from lvyue.order_review.domain.slas import CONTACT_SLA, REVIEW_SLA
from lvyue.order_review.domain.status import OrderStatus
from lvyue.order_review.domain.transitions import Action, require
from lvyue.order_review.repository import ReviewState
from lvyue.order_review.review import ReviewContext, decide


class OrderNotFound(Exception):
    def __init__(self, order_id: uuid.UUID) -> None:
        super().__init__(f"order {order_id} not found")


@dataclass(frozen=True)
class RecordContact:
    order_id: uuid.UUID
    channel: str
    outcome: str
    note: str
    actor: str


@dataclass(frozen=True)
class CorrectOrder:
    order_id: uuid.UUID
    receiver: Receiver | None
    lines: tuple[OrderLine, ...] | None
    actor: str
    by_platform: bool = False  # the buyer's change a platform reported, not an operator's


@dataclass(frozen=True)
class CancelOrder:
    order_id: uuid.UUID
    reason: str
    actor: str


async def _locked(uow: UnitOfWork, order_id: uuid.UUID, action: Action) -> ReviewState:
    state = await repository.lock_order(uow.session, order_id)
    if state is None:
        raise OrderNotFound(order_id)
    require(action, state.status)
    return state


async def record_contact(cmd: RecordContact, uow: UnitOfWork) -> str | None:
    """Records the contact and closes the 2 h deadline; returns how it closed (met/breached)."""
    async with uow:
        await _locked(uow, cmd.order_id, Action.RECORD_CONTACT)
        now = uow.clock.now()
        await repository.add_contact(uow.session, repository.Contact(**asdict(cmd), at=now))
        closed = await close_deadline(
            uow, sla=CONTACT_SLA, subject=str(cmd.order_id), closed_at=now
        )
        await uow.commit()
    return str(closed.state) if closed else None


async def correct_order(cmd: CorrectOrder, uow: UnitOfWork, ctx: ReviewContext) -> OrderStatus:
    """Applies the correction and reviews again; new lines first go back to inventory."""
    async with uow:
        state = await _locked(uow, cmd.order_id, Action.CORRECT)
        now = uow.clock.now()
        changes = _changes(cmd)
        order = CanonicalOrder.model_validate(
            {**state.order.model_dump(), **changes}, context=accepted()
        )
        await repository.replace_order(
            uow.session, order_id=state.id, order=order, at=now, by_platform=cmd.by_platform
        )
        note = f"corrected by {cmd.actor}: {', '.join(sorted(changes))}"
        if cmd.lines is not None and cmd.lines != state.order.lines:
            status = await _back_to_inventory(uow, state.id, order, note, now)
        else:
            await repository.add_status(
                uow.session, order_id=state.id, status=OrderStatus.ABNORMAL, at=now, note=note
            )
            # the findings operators accepted stay accepted unless the correction changed what
            # their rule judged (rules.acceptance)
            status = await decide(replace(state, order=order), uow, ctx)
        await uow.commit()
    return status


def _changes(cmd: CorrectOrder) -> dict[str, Any]:
    """The order's fields the correction replaces."""
    changes: dict[str, Any] = {}
    if cmd.receiver is not None:
        changes["receiver"] = cmd.receiver
    if cmd.lines is not None:
        changes["lines"] = cmd.lines
    return changes


async def _back_to_inventory(
    uow: UnitOfWork, order_id: uuid.UUID, order: CanonicalOrder, note: str, now: datetime
) -> OrderStatus:
    """New lines: stock must be reserved again, so review waits for inventory (order.updated)."""
    await repository.set_stock_outcome(
        uow.session, order_id=order_id, stock_status=None, stock=None, warehouse_id=None
    )
    await repository.set_status(
        uow.session, order_id=order_id, status=OrderStatus.PENDING_REVIEW, at=now, note=note
    )
    await uow.emit(
        ORDER_UPDATED,
        OrderUpdated(order_id=order_id, order=order, updated_at=now),
        subject=str(order_id),
    )
    return OrderStatus.PENDING_REVIEW


async def cancel_order(cmd: CancelOrder, uow: UnitOfWork) -> None:
    """Cancels before dispatch: inventory releases the stock on order.cancelled."""
    async with uow:
        state = await _locked(uow, cmd.order_id, Action.CANCEL)
        now = uow.clock.now()
        await repository.set_status(
            uow.session,
            order_id=state.id,
            status=OrderStatus.CANCELLED,
            at=now,
            note=f"cancelled by {cmd.actor}: {cmd.reason}",
        )
        for sla in (REVIEW_SLA, CONTACT_SLA):
            await cancel_deadline(uow, sla=sla, subject=str(state.id), at=now)
        await uow.emit(
            ORDER_CANCELLED,
            OrderCancelled(order_id=state.id, reason=cmd.reason, cancelled_at=now),
            subject=str(state.id),
        )
        await uow.commit()
