"""Paying a case's refund: never more than was paid for the order minus earlier refunds."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from lvyue.aftersales import metrics, repository
from lvyue.aftersales.api.schemas import CaseRead
from lvyue.aftersales.commands.context import CaseContext
from lvyue.aftersales.commands.decide import locked_case
from lvyue.aftersales.commands.errors import CaseNotFound, RefundConflict
from lvyue.aftersales.commands.intake import shipped_order
from lvyue.aftersales.commands.views import case_view
from lvyue.aftersales.domain import REFUND_SLA, RuleViolation, check_refundable
from lvyue.aftersales.domain.transitions import Action, already_done, next_state
from lvyue.aftersales.repository import Case, Refund, ShippedOrder
from lvyue.common.events.catalog import AFTERSALE_REFUNDED, AftersaleRefunded
from lvyue.common.uow import UnitOfWork


@dataclass(frozen=True)
class IssueRefund:
    case_id: uuid.UUID
    reference: str  # the payment provider's refund reference: the idempotency key
    amount: Decimal
    actor: str


async def refund(cmd: IssueRefund, uow: UnitOfWork, ctx: CaseContext) -> CaseRead:
    """Records the refund, closes refund_48h and announces aftersale.refunded."""
    async with uow:
        order, case = await _order_and_case(uow, cmd.case_id)
        if already_done(case.type, Action.REFUND, case.state):
            return await case_view(uow.session, await _repeat(uow, case, cmd))
        to = next_state(case.type, Action.REFUND, case.state)
        paid = await _pay(uow, cmd, case, order)
        await repository.update_case(uow.session, case.id, state=to, updated_at=paid.refunded_at)
        await repository.add_history(
            uow.session, case_id=case.id, state=to, at=paid.refunded_at, actor=cmd.actor,
            note=f"refunded {paid.amount} {paid.currency}, reference {paid.reference}",
        )  # fmt: skip
        await ctx.close_deadline(uow, REFUND_SLA, case, paid.refunded_at)
        await uow.emit(
            AFTERSALE_REFUNDED, _refunded(case, order, paid), subject=str(order.order_id)
        )
        uow.after_commit(lambda: metrics.record_refund(paid.amount, paid.currency))
        view = await case_view(uow.session, await locked_case(uow, cmd.case_id))
        await uow.commit()
    return view


async def _order_and_case(uow: UnitOfWork, case_id: uuid.UUID) -> tuple[ShippedOrder, Case]:
    """The case's order and the case, both locked: the order first, as intake locks them."""
    unlocked = await repository.get_case(uow.session, case_id)
    if unlocked is None:
        raise CaseNotFound(case_id)
    order = await shipped_order(uow, unlocked.order_id)
    return order, await locked_case(uow, case_id)


async def _repeat(uow: UnitOfWork, case: Case, cmd: IssueRefund) -> Case:
    """A refund already paid: the same reference and amount again is a no-op, else 409."""
    earlier = await repository.refund_of_case(uow.session, case.id)
    assert earlier is not None
    if (earlier.reference, earlier.amount) != (cmd.reference, cmd.amount):
        raise RefundConflict(case.id, earlier.reference, str(earlier.amount))
    return case


async def _pay(uow: UnitOfWork, cmd: IssueRefund, case: Case, order: ShippedOrder) -> Refund:
    """The refund recorded, once its reference is new and the amount within what was paid
    for the order minus earlier refunds."""
    if (used := await repository.refund_by_reference(uow.session, cmd.reference)) is not None:
        raise RuleViolation(
            "refund_reference", f"reference {cmd.reference!r} was used for case {used.case_id}"
        )
    refunded = await repository.refunded_total(uow.session, order.order_id)
    check_refundable(cmd.amount, paid_total=order.paid_total, refunded=refunded)
    paid = Refund(
        case.id, order.order_id, cmd.reference, cmd.amount, order.currency, uow.clock.now(),
        cmd.actor,
    )  # fmt: skip
    if not await repository.insert_refund(uow.session, paid):  # taken by a concurrent case
        raise RuleViolation("refund_reference", f"reference {cmd.reference!r} is in use")
    return paid


def _refunded(case: Case, order: ShippedOrder, paid: Refund) -> AftersaleRefunded:
    return AftersaleRefunded(
        aftersale_id=case.id,
        order_id=order.order_id,
        platform=order.platform,
        shop_id=order.shop_id,
        platform_order_id=order.platform_order_id,
        aftersale_type=case.type,
        reason=case.reason,
        refund_reference=paid.reference,
        amount=paid.amount,
        currency=paid.currency,
        refunded_at=paid.refunded_at,
    )
