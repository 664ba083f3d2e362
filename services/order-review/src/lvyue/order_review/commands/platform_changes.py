"""Changes a platform reports to an order lvyue holds: the buyer's new receiver, and a
cancellation that came after the parcel left (an after-sale matter, reported once).

Before review the order simply takes the new receiver (review judges it when stock is known);
an abnormal order is corrected and reviewed again, as an operator's correction would be. A
reviewed order's shipment is requested already: the new receiver is judged by the receiver's
rules (address, phone, blacklists) and, if it passes, taken and announced as
order.receiver_changed, on which fulfilment tells the warehouse (shipment.receiver_changed)
unless the parcel has left; if it fails, the order keeps its receiver and the refusal is noted
for an operator. Once shipped or cancelled, the change is only reported (`too_late`).

A change is judged against the receiver the platform gave before, not the order's: an
operator's correction (orders.platform_receiver keeps the platform's apart) is not undone by
the platform repeating what it said, only by the buyer changing it again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from lvyue.common.contracts.order import CanonicalOrder, Receiver
from lvyue.common.events.catalog import (
    ORDER_CANCEL_AFTER_DISPATCH,
    ORDER_RECEIVER_CHANGED,
    CancelAfterDispatch,
    OrderReceiverChanged,
)
from lvyue.common.uow import UnitOfWork
from lvyue.order_review import repository
from lvyue.order_review.commands.operator import CorrectOrder, OrderNotFound, correct_order
from lvyue.order_review.domain.rules.address import check_address
from lvyue.order_review.domain.rules.contact import check_blacklist, check_phone
from lvyue.order_review.domain.status import OrderStatus
from lvyue.order_review.review import ReviewContext


@dataclass(frozen=True)
class ChangeReceiver:
    order_id: uuid.UUID
    receiver: Receiver
    platform: str


async def change_receiver(cmd: ChangeReceiver, uow: UnitOfWork, ctx: ReviewContext) -> str:
    """unchanged, applied (before review), reviewed_again (abnormal), rerouted or refused
    (reviewed), or too_late (shipped or cancelled)."""
    async with uow:
        state = await repository.lock_order(uow.session, cmd.order_id)
        if state is None:
            raise OrderNotFound(cmd.order_id)
        if cmd.receiver == await repository.platform_receiver(uow.session, state.id):
            return "unchanged"  # what the platform said before: an operator's correction stays
        if cmd.receiver == state.order.receiver:  # the buyer chose what an operator had set
            await repository.set_platform_receiver(uow.session, state.id, None)
            await uow.commit()
            return "unchanged"
        now = uow.clock.now()
        order = state.order.model_copy(update={"receiver": cmd.receiver})
        if state.status == OrderStatus.PENDING_REVIEW:
            await repository.replace_order(
                uow.session, order_id=state.id, order=order, at=now, by_platform=True
            )
            await repository.add_status(
                uow.session, order_id=state.id, status=OrderStatus.PENDING_REVIEW, at=now,
                note=f"receiver changed on {cmd.platform}",
            )  # fmt: skip
            await uow.commit()
            return "applied"
        if state.status == OrderStatus.REVIEWED:
            outcome = await _reroute(uow, state.id, order, cmd.platform, ctx)
            await uow.commit()
            return outcome
        if state.status != OrderStatus.ABNORMAL:
            # remembered, so the next pull of the same order does not report it again
            await repository.set_platform_receiver(uow.session, state.id, cmd.receiver)
            await uow.commit()
            return "too_late"
    actor = f"{cmd.platform} (the buyer's address change)"
    correction = CorrectOrder(cmd.order_id, cmd.receiver, None, actor, by_platform=True)
    await correct_order(correction, uow, ctx)
    return "reviewed_again"


async def _reroute(
    uow: UnitOfWork, order_id: uuid.UUID, order: CanonicalOrder, platform: str, ctx: ReviewContext
) -> str:
    """A reviewed order's new receiver: taken and announced if the receiver's rules pass."""
    now = uow.clock.now()
    config = ctx.config
    checks = (check_address(order), check_phone(order, config), check_blacklist(order, config))
    findings = [f for f in checks if f is not None]
    if findings:
        why = "; ".join(f"{f.reason}: {f.detail}" for f in findings)
        await repository.add_status(
            uow.session, order_id=order_id, status=OrderStatus.REVIEWED, at=now,
            note=f"receiver change on {platform} refused, the order keeps its receiver: {why}",
        )  # fmt: skip
        await repository.set_platform_receiver(uow.session, order_id, order.receiver)
        return "refused"
    await repository.replace_order(
        uow.session, order_id=order_id, order=order, at=now, by_platform=True
    )
    await repository.add_status(
        uow.session, order_id=order_id, status=OrderStatus.REVIEWED, at=now,
        note=f"receiver changed on {platform} after review: the warehouse is told",
    )  # fmt: skip
    await uow.emit(
        ORDER_RECEIVER_CHANGED,
        OrderReceiverChanged(
            order_id=order_id, receiver=order.receiver, platform=platform, changed_at=now
        ),
        subject=str(order_id),
    )
    return "rerouted"


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
