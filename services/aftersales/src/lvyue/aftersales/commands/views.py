"""Read models: a case with its refund, deadlines and history; an order and its refunds.

Commands answer with `case_view` built inside their own transaction, so what the operator sees
is what was committed, without a second transaction to read it back."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from lvyue.aftersales import repository
from lvyue.aftersales.api.schemas import (
    CaseRead,
    OrderRead,
)
from lvyue.aftersales.repository import Case
from lvyue.common.deadlines.store import for_subject
from lvyue.common.paging import Paging


async def case_view(session: AsyncSession, case: Case) -> CaseRead:
    """The case as the API shows it: its fields, refund, deadlines and history (read by
    attribute from the repository's records, field by field as CaseRead names them)."""
    return CaseRead.model_validate(
        {
            **vars(case),
            "refund": await repository.refund_of_case(session, case.id),
            "deadlines": await for_subject(session, str(case.id)),
            "history": await repository.history(session, case.id),
        },
        from_attributes=True,
    )


async def order_view(session: AsyncSession, order_id: uuid.UUID) -> OrderRead | None:
    known = await repository.get_order(session, order_id)
    if known is None:
        return None
    refunded = await repository.refunded_total(session, order_id)
    cases, _ = await repository.list_cases(
        session, state=None, order_id=order_id, paging=Paging(limit=1000)
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
