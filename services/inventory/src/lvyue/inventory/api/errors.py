"""How the inventory routes answer the commands' errors: 404 for an unknown SKU, 409 for a rule."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, status

from lvyue.common.openapi import problem_responses
from lvyue.inventory.api.schemas import MovementRead
from lvyue.inventory.commands import RuleViolation, UnknownSku

WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    200: {
        "model": MovementRead,
        "description": "a repeat of the same reference: the first movement, nothing applied",
    },
    **problem_responses(
        described={
            404: "the warehouse has no such SKU (create it with PUT /skus/...)",
            409: "a rule refuses it: detail says why, rule and field name the rule and the field",
        }
    ),
}


def refused(exc: RuleViolation | UnknownSku) -> HTTPException:
    if isinstance(exc, UnknownSku):
        return HTTPException(status.HTTP_404_NOT_FOUND, str(exc))
    return HTTPException(
        status.HTTP_409_CONFLICT, {"rule": exc.rule, "field": exc.field, "msg": str(exc)}
    )
