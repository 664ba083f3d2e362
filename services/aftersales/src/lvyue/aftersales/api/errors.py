"""How the commands' refusals answer over HTTP: 404 unknown, 409 not now / not allowed."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from lvyue.aftersales.commands import CaseNotFound, OrderNotFound, OrderNotShipped, RefundConflict
from lvyue.aftersales.domain import CaseState, RuleViolation
from lvyue.aftersales.transitions import TransitionNotAllowed


async def _not_found(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=404)


async def _not_allowed(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TransitionNotAllowed)
    return JSONResponse({"detail": str(exc), "current_state": exc.current}, status_code=409)


async def _not_shipped(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OrderNotShipped)
    body = {
        "detail": str(exc),
        "order_id": str(exc.order_id),
        "cancel": {
            "service": "order-review",
            "method": "POST",
            "path": f"/orders/{exc.order_id}/cancel",
        },
    }
    return JSONResponse(body, status_code=409)


async def _rule(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RuleViolation)
    return JSONResponse({"detail": str(exc), "rule": exc.rule}, status_code=409)


async def _refunded(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc), "current_state": CaseState.REFUNDED}, status_code=409)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(CaseNotFound, _not_found)
    app.add_exception_handler(OrderNotFound, _not_found)
    app.add_exception_handler(OrderNotShipped, _not_shipped)
    app.add_exception_handler(TransitionNotAllowed, _not_allowed)
    app.add_exception_handler(RuleViolation, _rule)
    app.add_exception_handler(RefundConflict, _refunded)
