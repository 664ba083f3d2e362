"""The operators' and the warehouse's after-sale API: intake, decisions, returns, refunds."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Header, HTTPException, Response

from lvyue.aftersales import repository
from lvyue.aftersales.api.deps import CtxDep, Ops, Reader, Warehouse, actor
from lvyue.aftersales.api.schemas import (
    ApprovalCreate,
    CaseCreate,
    CasePage,
    CaseRead,
    OrderRead,
    RefundCreate,
    RejectionCreate,
    ReturnCreate,
)
from lvyue.aftersales.commands import (
    Approve,
    IssueRefund,
    OpenCase,
    ReceiveReturn,
    Reject,
    approve,
    open_case,
    receive_return,
    refund,
    reject,
)
from lvyue.aftersales.commands.views import case_view, order_view
from lvyue.aftersales.domain import CaseState, ReturnLine, Source
from lvyue.common.app import UowFactoryDep
from lvyue.common.openapi import problem_responses
from lvyue.common.operator_header import OperatorName
from lvyue.common.query import PagingDep
from lvyue.common.routing import api_router

router = api_router(tags=["after-sale cases"])

IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=128,
        pattern=r"^[ -~]+$",  # printable ASCII: a header's bytes, stored and compared as text
        description="Required: a repeat with the same key returns the same case (200); "
        "printable ASCII, e.g. a UUID.",
    ),
]

_ACTION_ANSWERS: dict[int | str, dict[str, str]] = {
    200: {"description": "done, or a repeat of what was done before (nothing changes)"},
    404: {"description": "no such case"},
    409: {"description": "the case's state does not allow it (current_state), or a rule refuses"},
}


@router.post(
    "/aftersales",
    status_code=201,
    response_model=CaseRead,
    responses={
        200: {
            "model": CaseRead,
            "description": "a repeat of the same Idempotency-Key: the case opened before",
        },
        404: {"description": "aftersales has not heard of the order"},
        409: {"description": "the order has not shipped (cancel it instead), or a rule refuses"},
    },
)
async def create_case(
    body: CaseCreate,
    response: Response,
    uow: UowFactoryDep,
    ctx: CtxDep,
    roles: Ops,
    operator: OperatorName,
    key: IdempotencyKey,
) -> CaseRead:
    """Opens a case for a shipped order on the buyer's behalf; aftersale_response_24h starts."""
    cmd = OpenCase(
        order=body.order_id,
        type=body.type,
        reason=body.reason,
        description=body.description,
        lines=tuple((line.sku, line.quantity) for line in body.lines),
        requested_amount=body.refund_amount,
        source=Source.OPERATOR,
        actor=actor(roles, operator),
        idempotency_key=key,
    )
    opened = await open_case(cmd, uow(), ctx, view=True)
    response.status_code = 201 if opened.created else 200
    assert opened.view is not None
    return opened.view


@router.get("/aftersales", response_model=CasePage)
async def list_cases(
    uow: UowFactoryDep,
    _: Reader,
    paging: PagingDep,
    state: CaseState | None = None,
    order_id: uuid.UUID | None = None,
) -> CasePage:
    """Cases, oldest request first; filter by state (e.g. requested: the answer queue)."""
    async with uow() as unit:
        found, total = await repository.list_cases(
            unit.session, state=state, order_id=order_id, paging=paging
        )
        items = [await case_view(unit.session, case) for case in found]
    return CasePage.of(items, total, paging)


@router.get("/aftersales/{case_id}", response_model=CaseRead, responses=problem_responses(404))
async def read_case(case_id: uuid.UUID, uow: UowFactoryDep, _: Reader) -> CaseRead:
    async with uow() as unit:
        case = await repository.get_case(unit.session, case_id)
        if case is None:
            raise HTTPException(404, f"after-sale case {case_id} not found")
        return await case_view(unit.session, case)


@router.post("/aftersales/{case_id}/approve", response_model=CaseRead, responses=_ACTION_ANSWERS)
async def approve_case(
    case_id: uuid.UUID,
    uow: UowFactoryDep,
    ctx: CtxDep,
    roles: Ops,
    operator: OperatorName,
    body: ApprovalCreate | None = None,
) -> CaseRead:
    """Answers the request with yes (closes aftersale_response_24h)."""
    note = body.note if body is not None else ""
    return await approve(Approve(case_id, actor(roles, operator), note), uow(), ctx)


@router.post("/aftersales/{case_id}/reject", response_model=CaseRead, responses=_ACTION_ANSWERS)
async def reject_case(
    case_id: uuid.UUID,
    body: RejectionCreate,
    uow: UowFactoryDep,
    ctx: CtxDep,
    roles: Ops,
    operator: OperatorName,
) -> CaseRead:
    """Answers the request with no, giving the reason (closes aftersale_response_24h)."""
    return await reject(Reject(case_id, actor(roles, operator), body.reason), uow(), ctx)


@router.post(
    "/aftersales/{case_id}/return-received", response_model=CaseRead, responses=_ACTION_ANSWERS
)
async def return_received(
    case_id: uuid.UUID,
    body: ReturnCreate,
    uow: UowFactoryDep,
    ctx: CtxDep,
    roles: Warehouse,
    operator: OperatorName,
) -> CaseRead:
    """The warehouse got the goods back, each line sellable or not."""
    lines = tuple(ReturnLine(x.sku, x.quantity, x.sellable) for x in body.lines)
    return await receive_return(ReceiveReturn(case_id, lines, actor(roles, operator)), uow(), ctx)


@router.post("/aftersales/{case_id}/refund", response_model=CaseRead, responses=_ACTION_ANSWERS)
async def refund_case(
    case_id: uuid.UUID,
    body: RefundCreate,
    uow: UowFactoryDep,
    ctx: CtxDep,
    roles: Ops,
    operator: OperatorName,
) -> CaseRead:
    """Records the refund paid (closes refund_48h); the same reference again changes nothing."""
    cmd = IssueRefund(case_id, body.reference, body.amount, actor(roles, operator))
    return await refund(cmd, uow(), ctx)


@router.get("/orders/{order_id}", response_model=OrderRead, responses=problem_responses(404))
async def read_order(order_id: uuid.UUID, uow: UowFactoryDep, _: Reader) -> OrderRead:
    """An order as aftersales knows it: shipped or not, paid, refunded, its cases."""
    async with uow() as unit:
        view = await order_view(unit.session, order_id)
    if view is None:
        raise HTTPException(404, f"order {order_id} not found")
    return view
