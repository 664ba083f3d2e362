"""An operator's answer to a case: approve or reject; either closes aftersale_response_24h."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from lvyue.aftersales import repository
from lvyue.aftersales.api.schemas import CaseRead
from lvyue.aftersales.commands.context import CaseContext
from lvyue.aftersales.commands.errors import CaseNotFound
from lvyue.aftersales.commands.views import case_view
from lvyue.aftersales.domain import REFUND_SLA, RESPONSE_SLA, CaseState
from lvyue.aftersales.domain.transitions import Action, already_done, next_state
from lvyue.aftersales.repository import Case
from lvyue.common.uow import UnitOfWork


@dataclass(frozen=True)
class Approve:
    case_id: uuid.UUID
    actor: str
    note: str = ""


@dataclass(frozen=True)
class Reject:
    case_id: uuid.UUID
    actor: str
    reason: str


async def locked_case(uow: UnitOfWork, case_id: uuid.UUID) -> Case:
    case = await repository.get_case(uow.session, case_id, lock=True)
    if case is None:
        raise CaseNotFound(case_id)
    return case


async def _decide(
    uow: UnitOfWork, ctx: CaseContext, case: Case, action: Action, actor: str, note: str
) -> CaseState:
    to = next_state(case.type, action, case.state)
    now = uow.clock.now()
    await repository.update_case(
        uow.session, case.id,
        state=to, decided_at=now, decided_by=actor, decision_note=note, updated_at=now,
    )  # fmt: skip
    await repository.add_history(
        uow.session, case_id=case.id, state=to, at=now, actor=actor, note=f"{action}: {note}"
    )
    await ctx.close_deadline(uow, RESPONSE_SLA, case, now)
    return to


async def approve(cmd: Approve, uow: UnitOfWork, ctx: CaseContext) -> CaseRead:
    """Approves the case; a refund-only case now owes its refund within refund_48h."""
    async with uow:
        case = await locked_case(uow, cmd.case_id)
        if already_done(case.type, Action.APPROVE, case.state):
            return await case_view(uow.session, case)
        to = await _decide(uow, ctx, case, Action.APPROVE, cmd.actor, cmd.note)
        if to is CaseState.AWAITING_REFUND:
            await ctx.open_deadline(uow, REFUND_SLA, case, uow.clock.now())
        view = await case_view(uow.session, await locked_case(uow, cmd.case_id))
        await uow.commit()
    return view


async def reject(cmd: Reject, uow: UnitOfWork, ctx: CaseContext) -> CaseRead:
    """Rejects the case with the reason the buyer will be told."""
    async with uow:
        case = await locked_case(uow, cmd.case_id)
        if already_done(case.type, Action.REJECT, case.state):
            return await case_view(uow.session, case)
        await _decide(uow, ctx, case, Action.REJECT, cmd.actor, cmd.reason)
        view = await case_view(uow.session, await locked_case(uow, cmd.case_id))
        await uow.commit()
    return view
