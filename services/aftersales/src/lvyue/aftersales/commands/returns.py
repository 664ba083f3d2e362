"""The warehouse received a case's goods back: restock (inventory) and what comes next."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from lvyue.aftersales import repository
from lvyue.aftersales.api.schemas import CaseRead
from lvyue.aftersales.commands.context import CaseContext
from lvyue.aftersales.commands.decide import locked_case
from lvyue.aftersales.commands.intake import shipped_order
from lvyue.aftersales.commands.views import case_view
from lvyue.aftersales.domain import REFUND_SLA, CaseState, ReturnLine, quantities, returned_lines
from lvyue.aftersales.domain.transitions import Action, already_done, next_state
from lvyue.aftersales.repository import Case, ShippedOrder
from lvyue.aftersales.repository.records import returned_lines_json
from lvyue.common.events.catalog import (
    AFTERSALE_REPLACEMENT_REQUESTED,
    AFTERSALE_RETURN_RECEIVED,
    ReplacementRequested,
    ReturnedLine,
    ReturnReceived,
)
from lvyue.common.uow import UnitOfWork


@dataclass(frozen=True)
class ReceiveReturn:
    case_id: uuid.UUID
    lines: tuple[ReturnLine, ...]
    actor: str


def _replacement(
    case: Case, order: ShippedOrder, lines: tuple[ReturnLine, ...], at: datetime
) -> ReplacementRequested:
    """The same SKUs as came back, at the order's price, to the order's receiver."""
    units = quantities((ln.sku, ln.quantity) for ln in lines)
    by_sku = {line.sku: line for line in reversed(order.lines)}  # first line per SKU wins
    return ReplacementRequested(
        aftersale_id=case.id,
        order_id=case.order_id,
        warehouse_id=order.warehouse_id,
        platform=order.platform,
        shop_id=order.shop_id,
        platform_order_id=order.platform_order_id,
        lines=tuple(
            by_sku[sku].model_copy(update={"quantity": q}) for sku, q in sorted(units.items())
        ),
        receiver=order.receiver,
        requested_at=at,
    )


async def receive_return(cmd: ReceiveReturn, uow: UnitOfWork, ctx: CaseContext) -> CaseRead:
    """Announces aftersale.return_received (sellable units go back to stock); then a
    return-and-refund case owes its refund within refund_48h, and an exchange asks fulfilment
    for the replacement and waits for its dispatch (commands/replacement.py completes it)."""
    async with uow:
        case = await locked_case(uow, cmd.case_id)
        if already_done(case.type, Action.RECEIVE_RETURN, case.state):
            return await case_view(uow.session, case)
        to = next_state(case.type, Action.RECEIVE_RETURN, case.state)
        lines = returned_lines(cmd.lines, case.lines)
        order = await shipped_order(uow, case.order_id, lock=False)
        now = uow.clock.now()
        await repository.update_case(
            uow.session, case.id, state=to, return_received_at=now,
            returned_lines=returned_lines_json(lines), updated_at=now,
        )  # fmt: skip
        await repository.add_history(
            uow.session, case_id=case.id, state=to, at=now, actor=cmd.actor, note="return received"
        )
        received = _received(case, order, lines, now)
        await uow.emit(AFTERSALE_RETURN_RECEIVED, received, subject=str(case.order_id))
        case = await locked_case(uow, cmd.case_id)  # as it is now received
        await _next_step(uow, ctx, case, order, lines, now)
        view = await case_view(uow.session, case)
        await uow.commit()
    return view


def _received(
    case: Case, order: ShippedOrder, lines: tuple[ReturnLine, ...], at: datetime
) -> ReturnReceived:
    return ReturnReceived(
        aftersale_id=case.id,
        order_id=case.order_id,
        warehouse_id=order.warehouse_id,
        lines=tuple(
            ReturnedLine(sku=x.sku, quantity=x.quantity, sellable=x.sellable) for x in lines
        ),
        received_at=at,
    )


async def _next_step(
    uow: UnitOfWork,
    ctx: CaseContext,
    case: Case,
    order: ShippedOrder,
    lines: tuple[ReturnLine, ...],
    now: datetime,
) -> None:
    """A refund owed within refund_48h, or an exchange's replacement asked for."""
    if case.state is CaseState.AWAITING_REFUND:
        await ctx.open_deadline(uow, REFUND_SLA, case, now)  # rule refund_48h
    elif case.state is CaseState.AWAITING_REPLACEMENT:
        replacement = _replacement(case, order, lines, now)
        await uow.emit(AFTERSALE_REPLACEMENT_REQUESTED, replacement, subject=str(case.order_id))
