"""How the commands' refusals answer over HTTP: 404 unknown, 409 not now / not allowed."""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import Response

from lvyue.aftersales.commands import CaseNotFound, OrderNotFound, OrderNotShipped, RefundConflict
from lvyue.aftersales.domain import CaseState, RuleViolation
from lvyue.aftersales.domain.transitions import TransitionNotAllowed
from lvyue.common.problems import problem


async def _not_found(_: Request, exc: Exception) -> Response:
    return problem(404, str(exc))


async def _not_allowed(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, TransitionNotAllowed)
    return problem(409, str(exc), current_state=exc.current)


async def _not_shipped(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, OrderNotShipped)
    cancel = {"service": "order-review", "method": "POST", "path": f"/orders/{exc.order_id}/cancel"}
    return problem(409, str(exc), order_id=str(exc.order_id), cancel=cancel)


async def _rule(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RuleViolation)
    return problem(409, str(exc), rule=exc.rule)


async def _refunded(_: Request, exc: Exception) -> Response:
    return problem(409, str(exc), current_state=CaseState.REFUNDED)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(CaseNotFound, _not_found)
    app.add_exception_handler(OrderNotFound, _not_found)
    app.add_exception_handler(OrderNotShipped, _not_shipped)
    app.add_exception_handler(TransitionNotAllowed, _not_allowed)
    app.add_exception_handler(RuleViolation, _rule)
    app.add_exception_handler(RefundConflict, _refunded)
