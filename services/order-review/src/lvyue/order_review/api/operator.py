"""The operators' API (role ops): the abnormal queue, contacts, corrections, cancellation."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from lvyue.common.app import UowFactoryDep
from lvyue.common.contracts.order import OrderLine, Receiver
from lvyue.common.contracts.text import FreeText
from lvyue.common.openapi import examples, page_of, problem_responses
from lvyue.common.operator_header import OperatorName
from lvyue.common.paging import Page
from lvyue.common.problems import problem
from lvyue.common.query import FilterText, PagingDep
from lvyue.common.routing import api_router
from lvyue.common.security import Role, require_role
from lvyue.order_review import repository
from lvyue.order_review.api.webhook_docs import CANONICAL_ORDER_EXAMPLE
from lvyue.order_review.commands.operator import (
    CancelOrder,
    CorrectOrder,
    OrderNotFound,
    RecordContact,
    cancel_order,
    correct_order,
    record_contact,
)
from lvyue.order_review.domain.rules.findings import Reason
from lvyue.order_review.domain.transitions import TransitionNotAllowed
from lvyue.order_review.review import ReviewContext

router = api_router(tags=["abnormal orders"], dependencies=[Depends(require_role(Role.OPS))])

ORDER_ID = "0b9e4c52-6c1e-4a53-9d35-2f4f2f7f6a10"


async def _operator(name: OperatorName) -> str:
    """The operator the call names (X-Operator), else "ops"."""
    return name or "ops"


Operator = Annotated[str, Depends(_operator)]


class Channel(StrEnum):
    PHONE = "phone"
    SMS = "sms"
    IM = "im"  # platform chat (旺旺, 咚咚, ...)
    EMAIL = "email"


class ContactOutcome(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
    MESSAGE_LEFT = "message_left"


class ContactCreate(BaseModel):
    model_config = examples({"channel": "phone", "outcome": "reached", "note": "买家确认新地址"})

    channel: Channel
    outcome: ContactOutcome
    note: Annotated[str, FreeText] = Field(default="", max_length=2000)


class ContactRead(BaseModel):
    model_config = examples({"order_id": ORDER_ID, "contact_deadline": "met"})

    order_id: uuid.UUID
    contact_deadline: str | None = Field(description="met / breached, or null if none was open")


class CorrectionCreate(BaseModel):
    model_config = examples({"receiver": CANONICAL_ORDER_EXAMPLE["receiver"]})

    receiver: Receiver | None = None
    lines: tuple[OrderLine, ...] | None = Field(default=None, min_length=1, max_length=500)


class CancellationCreate(BaseModel):
    model_config = examples({"reason": "买家要求取消：地址无法送达"})

    reason: Annotated[str, FreeText] = Field(min_length=1, max_length=500)


class StatusRead(BaseModel):
    model_config = examples({"order_id": ORDER_ID, "status": "reviewed"})

    order_id: uuid.UUID
    status: str


class Finding(BaseModel):
    reason: str
    detail: str


_QUEUE_ENTRY = {
    "order_id": ORDER_ID,
    "platform": "taobao",
    "shop_id": "tb-shop-001",
    "platform_order_id": "3914567281234567890",
    "findings": [{"reason": "remark_needs_human", "detail": "remark mentions 发票"}],
    "flagged_at": "2026-12-05T10:02:00+08:00",
    "contact_due_at": "2026-12-05T12:02:00+08:00",
    "contact_deadline_state": "open",
    "contacts": 0,
}


class QueueEntryRead(BaseModel):
    model_config = examples(_QUEUE_ENTRY)

    order_id: uuid.UUID
    platform: str
    shop_id: str
    platform_order_id: str
    findings: list[Finding]
    flagged_at: datetime
    contact_due_at: datetime | None
    contact_deadline_state: str | None
    contacts: int


class QueuePage(Page[QueueEntryRead]):
    model_config = examples(page_of(_QUEUE_ENTRY))


@router.get("/abnormal-orders", response_model=QueuePage)
async def abnormal_orders(
    uow: UowFactoryDep,
    paging: PagingDep,
    reason: Reason | None = None,
    platform: FilterText = None,
    shop_id: FilterText = None,
    overdue: bool | None = None,
) -> QueuePage:
    """The abnormal queue, soonest 2 h contact deadline first."""
    async with uow() as unit:
        entries, total = await repository.abnormal_queue(
            unit.session,
            now=unit.clock.now(),
            reason=reason,
            platform=platform,
            shop_id=shop_id,
            overdue=overdue,
            paging=paging,
        )
    return QueuePage.of(
        [QueueEntryRead.model_validate(e, from_attributes=True) for e in entries], total, paging
    )


_CHANGE_ERRORS = problem_responses(
    404,
    described={409: "the order's status refuses it: current_status names the status"},
)


@router.post(
    "/orders/{order_id}/contacts",
    status_code=201,
    response_model=ContactRead,
    responses=_CHANGE_ERRORS,
)
async def add_contact(
    order_id: uuid.UUID, body: ContactCreate, uow: UowFactoryDep, operator: Operator
) -> ContactRead:
    """Records a customer contact; the first one closes the 2 h contact deadline."""
    closed = await record_contact(
        RecordContact(order_id, body.channel, body.outcome, body.note, operator), uow()
    )
    return ContactRead(order_id=order_id, contact_deadline=closed)


@router.post("/orders/{order_id}/corrections", response_model=StatusRead, responses=_CHANGE_ERRORS)
async def correct(
    order_id: uuid.UUID,
    body: CorrectionCreate,
    request: Request,
    uow: UowFactoryDep,
    operator: Operator,
) -> StatusRead:
    """Corrects receiver (address, phone) or lines, then reviews the order again."""
    if body.receiver is None and body.lines is None:
        raise _unprocessable("give receiver, lines or both")
    ctx: ReviewContext = request.app.state.review
    status = await correct_order(
        CorrectOrder(order_id, body.receiver, body.lines, operator), uow(), ctx
    )
    return StatusRead(order_id=order_id, status=status)


@router.post("/orders/{order_id}/cancel", response_model=StatusRead, responses=_CHANGE_ERRORS)
async def cancel(
    order_id: uuid.UUID,
    body: CancellationCreate,
    uow: UowFactoryDep,
    operator: Operator,
) -> StatusRead:
    """Cancels an order before dispatch; stock is released. Repeating it changes nothing."""
    try:
        await cancel_order(CancelOrder(order_id, body.reason, operator), uow())
    except TransitionNotAllowed as exc:
        if exc.current != "cancelled":
            raise
    return StatusRead(order_id=order_id, status="cancelled")


def _unprocessable(message: str) -> Exception:
    return HTTPException(422, [{"loc": ["body"], "msg": message}])


def install_error_handlers(app: FastAPI) -> None:
    async def not_allowed(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, TransitionNotAllowed)
        return problem(409, str(exc), current_status=exc.current)

    async def not_found(_: Request, exc: Exception) -> Response:
        return problem(404, str(exc))

    app.add_exception_handler(TransitionNotAllowed, not_allowed)
    app.add_exception_handler(OrderNotFound, not_found)
