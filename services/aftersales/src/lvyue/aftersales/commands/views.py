"""Read models: a case with its refund, deadlines and history; an order and its refunds.

Commands answer with `case_view` built inside their own transaction, so what the operator sees
is what was committed, without a second transaction to read it back."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from lvyue.aftersales import repository
from lvyue.aftersales.api.schemas import (
    CaseLineRead,
    CaseRead,
    DeadlineRead,
    HistoryRead,
    OrderRead,
    RefundRead,
    ReplacementRead,
    ReturnLineRead,
)
from lvyue.aftersales.repository import Case
from lvyue.common.deadlines.store import for_subject


async def case_view(session: AsyncSession, case: Case) -> CaseRead:
    refund = await repository.refund_of_case(session, case.id)
    deadlines = await for_subject(session, str(case.id))
    return CaseRead(
        id=case.id,
        order_id=case.order_id,
        type=case.type,
        reason=case.reason,
        description=case.description,
        lines=[CaseLineRead(**vars(line)) for line in case.lines],
        requested_amount=case.requested_amount,
        state=case.state,
        source=case.source,
        platform=case.platform,
        shop_id=case.shop_id,
        platform_aftersale_id=case.platform_aftersale_id,
        requested_at=case.requested_at,
        decided_at=case.decided_at,
        decided_by=case.decided_by,
        decision_note=case.decision_note,
        return_received_at=case.return_received_at,
        returned_lines=(
            None
            if case.returned_lines is None
            else [ReturnLineRead(**vars(line)) for line in case.returned_lines]
        ),
        refund=(
            RefundRead(
                reference=refund.reference,
                amount=refund.amount,
                currency=refund.currency,
                refunded_at=refund.refunded_at,
                actor=refund.actor,
            )
            if refund is not None
            else None
        ),
        replacement=(
            None if case.replacement is None else ReplacementRead(**vars(case.replacement))
        ),
        deadlines=[
            DeadlineRead(
                sla=d.sla,
                state=d.state,
                opened_at=d.opened_at,
                due_at=d.due_at,
                closed_at=d.closed_at,
            )
            for d in deadlines
        ],
        history=[HistoryRead(**vars(h)) for h in await repository.history(session, case.id)],
    )


async def order_view(session: AsyncSession, order_id: uuid.UUID) -> OrderRead | None:
    known = await repository.get_order(session, order_id)
    if known is None:
        return None
    refunded = await repository.refunded_total(session, order_id)
    cases, _ = await repository.list_cases(
        session, state=None, order_id=order_id, limit=1000, offset=0
    )
    shipped = known.shipped
    return OrderRead(
        order_id=order_id,
        reviewed=known.reviewed,
        shipped=shipped is not None,
        platform=shipped.platform if shipped else None,
        shop_id=shipped.shop_id if shipped else None,
        platform_order_id=shipped.platform_order_id if shipped else None,
        warehouse_id=shipped.warehouse_id if shipped else None,
        shipped_at=shipped.shipped_at if shipped else None,
        paid_total=shipped.paid_total if shipped else None,
        refunded_total=refunded,
        refundable=shipped.paid_total - refunded if shipped else None,
        currency=shipped.currency if shipped else None,
        cases=[c.id for c in cases],
    )
