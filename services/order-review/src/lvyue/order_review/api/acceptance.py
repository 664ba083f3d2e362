"""Operators accept a finding of an abnormal order (remark handled, payment confirmed, blacklist
false positive, ...); which finding by which role is configuration (review_acceptance_roles)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from lvyue.common.app import UowFactoryDep
from lvyue.common.contracts.text import FreeText
from lvyue.common.openapi import problem_responses
from lvyue.common.routing import api_router
from lvyue.common.security import GrantedRoles, require_role
from lvyue.order_review.api.operator import Finding, Operator
from lvyue.order_review.commands.acceptance import (
    AcceptanceOutcome,
    AcceptFinding,
    FindingNotPresent,
    accept_finding,
)
from lvyue.order_review.domain.rules.acceptance import (
    AcceptanceReason,
    AcceptanceRefused,
    ReasonDoesNotFit,
)
from lvyue.order_review.domain.rules.findings import Reason
from lvyue.order_review.review import ReviewContext
from lvyue.order_review.settings import OrderReviewSettings

router = api_router(tags=["abnormal orders"])

# Any known token passes the door; the acceptance policy decides per finding (403 otherwise).
AnyRole = Annotated[GrantedRoles, Depends(require_role())]


class AcceptanceCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "payment_confirmed", "note": "平台后台显示已付款"}]
        }
    )

    reason: AcceptanceReason = Field(
        description="remark_handled (remark_needs_human), payment_confirmed (not_paid), "
        "blacklist_false_positive (blacklisted), phone_confirmed (phone_invalid), or other "
        "with a note."
    )
    note: Annotated[str, FreeText] = Field(
        default="", max_length=2000, description="What was done, for the audit."
    )


class AcceptanceRead(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "order_id": "0b9e4c52-6c1e-4a53-9d35-2f4f2f7f6a10",
                    "rule": "not_paid",
                    "detail": "payment not confirmed",
                    "reason": "payment_confirmed",
                    "note": "平台后台显示已付款",
                    "accepted_by": "cs-xiaolin",
                    "roles": ["ops"],
                    "accepted_at": "2026-12-05T10:12:00+08:00",
                    "status": "reviewed",
                    "remaining": [],
                }
            ]
        }
    )

    order_id: uuid.UUID
    rule: Reason
    detail: str = Field(description="The finding as it was accepted.")
    reason: AcceptanceReason
    note: str
    accepted_by: str
    roles: list[str]
    accepted_at: datetime
    status: str = Field(description="The order's status now: reviewed once nothing is left.")
    remaining: list[Finding] = Field(description="Findings still open on the order.")


@router.post(
    "/orders/{order_id}/findings/{rule}/acceptance",
    status_code=status.HTTP_201_CREATED,
    response_model=AcceptanceRead,
    responses={
        200: {
            "model": AcceptanceRead,
            "description": "a repeat: the finding was accepted before, nothing changed",
        },
        **problem_responses(
            described={
                403: "this finding is never accepted, or not by the caller's roles",
                404: "no such order",
                409: "the order has no such open finding, or is not abnormal",
                422: "unknown rule, or a reason that does not resolve it",
            }
        ),
    },
)
async def accept(
    order_id: uuid.UUID,
    rule: Reason,
    body: AcceptanceCreate,
    request: Request,
    response: Response,
    uow: UowFactoryDep,
    roles: AnyRole,
    operator: Operator,
) -> AcceptanceRead:
    """Accepts one finding of an abnormal order, with the reason; once no finding is left open
    the order is reviewed (order.reviewed carries who accepted what and why). Repeating it
    changes nothing."""
    settings: OrderReviewSettings = request.app.state.settings
    ctx: ReviewContext = request.app.state.review
    roles_granted = frozenset(str(r) for r in roles)
    cmd = AcceptFinding(order_id, rule, body.reason, body.note, operator, roles_granted)
    try:
        outcome = await accept_finding(cmd, uow(), ctx, settings.acceptance_policy())
    except AcceptanceRefused as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from exc
    except ReasonDoesNotFit as exc:
        raise HTTPException(
            422,
            [{"loc": ["body", "reason"], "msg": str(exc)}],
        ) from exc
    except FindingNotPresent as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    if not outcome.created:
        response.status_code = status.HTTP_200_OK
    return _read(order_id, outcome)


def _read(order_id: uuid.UUID, outcome: AcceptanceOutcome) -> AcceptanceRead:
    a = outcome.acceptance
    return AcceptanceRead(
        order_id=order_id,
        rule=a.rule,
        detail=a.detail,
        reason=a.reason,
        note=a.note,
        accepted_by=a.actor,
        roles=list(a.roles),
        accepted_at=a.at,
        status=outcome.status,
        remaining=[Finding(reason=f.reason, detail=f.detail) for f in outcome.remaining],
    )
