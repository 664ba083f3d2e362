"""Changes a platform reports to an order lvyue holds: the buyer's new receiver, and a
cancellation that came after the parcel left (an after-sale matter, reported once).

Before review the order simply takes the new receiver (review judges it when stock is known);
an abnormal order is corrected and reviewed again, as an operator's correction would be. Once
reviewed its shipment is requested from the warehouse, and changing a parcel's address there
is not part of the warehouse contract yet: the change is reported (`too_late`), not applied.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from lvyue.common.contracts.order import Receiver
from lvyue.common.events.catalog import ORDER_CANCEL_AFTER_DISPATCH, CancelAfterDispatch
from lvyue.common.uow import UnitOfWork
from lvyue.order_review import repository
from lvyue.order_review.commands.operator import CorrectOrder, OrderNotFound, correct_order
from lvyue.order_review.domain.status import OrderStatus
from lvyue.order_review.review import ReviewContext


@dataclass(frozen=True)
class ChangeReceiver:
    order_id: uuid.UUID
    receiver: Receiver
    platform: str


async def change_receiver(cmd: ChangeReceiver, uow: UnitOfWork, ctx: ReviewContext) -> str:
    """unchanged, applied (before review), reviewed_again (abnormal), or too_late."""
    async with uow:
        state = await repository.lock_order(uow.session, cmd.order_id)
        if state is None:
            raise OrderNotFound(cmd.order_id)
        if state.order.receiver == cmd.receiver:
            return "unchanged"
        if state.status == OrderStatus.PENDING_REVIEW:
            now = uow.clock.now()
            order = state.order.model_copy(update={"receiver": cmd.receiver})
            await repository.replace_order(uow.session, order_id=state.id, order=order, at=now)
            await repository.add_status(
                uow.session, order_id=state.id, status=OrderStatus.PENDING_REVIEW, at=now,
                note=f"receiver changed on {cmd.platform}",
            )  # fmt: skip
            await uow.commit()
            return "applied"
        if state.status != OrderStatus.ABNORMAL:
            return "too_late"
    actor = f"{cmd.platform} (the buyer's address change)"
    await correct_order(CorrectOrder(cmd.order_id, cmd.receiver, None, actor), uow, ctx)
    return "reviewed_again"


@dataclass(frozen=True)
class ReportCancelAfterDispatch:
    order_id: uuid.UUID
    platform: str
    reason: str


async def report_cancel_after_dispatch(cmd: ReportCancelAfterDispatch, uow: UnitOfWork) -> bool:
    """Notes the cancellation in the order's history and emits order.cancel_after_dispatch
    (aftersales opens a case), once per order; False when it was reported before (every pull
    over the window reads the cancelled order again)."""
    async with uow:
        state = await repository.lock_order(uow.session, cmd.order_id)
        if state is None:
            raise OrderNotFound(cmd.order_id)
        if await repository.cancel_after_dispatch_reported(uow.session, cmd.order_id):
            return False
        now = uow.clock.now()
        await repository.add_status(
            uow.session, order_id=state.id, status=OrderStatus(state.status), at=now,
            note=f"cancelled on {cmd.platform} after dispatch: {cmd.reason}",
            details={repository.CANCEL_AFTER_DISPATCH: True},
        )  # fmt: skip
        await uow.emit(
            ORDER_CANCEL_AFTER_DISPATCH,
            CancelAfterDispatch(
                order_id=state.id, platform=cmd.platform, reason=cmd.reason, requested_at=now
            ),
            subject=str(state.id),
        )
        await uow.commit()
    return True
