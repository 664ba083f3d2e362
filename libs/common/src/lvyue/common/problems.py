"""One error shape for every service: RFC 9457 problem details (`application/problem+json`).

Every error a service answers is built here, from whatever raised it: an `HTTPException` (its
detail a sentence, field errors, or a dict whose `msg` is the sentence and whose other keys are
extension members, e.g. a 409's `current_status` or `rule`), FastAPI's `RequestValidationError`,
a webhook's `WebhookRejected`, or a lost database (503, in lvyue.common.app). `Problem` is the
schema every operation declares for its error statuses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from lvyue.common.webhooks.errors import WebhookRejected

PROBLEM_MEDIA_TYPE = "application/problem+json"
_TYPE_PREFIX = "urn:lvyue:problem:"

# The problem type of each status; one per status, so a client can switch on `type` alone.
_SLUGS: dict[int, str] = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    408: "request-timeout",
    409: "conflict",
    413: "content-too-large",
    415: "unsupported-media-type",
    422: "invalid-request",
    429: "too-many-requests",
    500: "internal-error",
    503: "service-unavailable",
}
DATABASE_UNAVAILABLE_TYPE = _TYPE_PREFIX + "database-unavailable"

_RESERVED = frozenset({"type", "title", "status", "detail", "instance", "errors"})


def problem_type(status: int) -> str:
    slug = _SLUGS.get(status)
    return _TYPE_PREFIX + slug if slug else "about:blank"


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class FieldError(BaseModel):
    """One thing wrong with the request, and where: `loc` starts with body, query, path or
    header (a webhook body's fields under body)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"loc": ["query", "limit"], "msg": "must be ≤ 1000"}]}
    )

    loc: list[str | int] = Field(description="Where: body, query, path or header, then names.")
    msg: str = Field(description="What is wrong, in one sentence.")
    type: str | None = Field(default=None, description="The validator's error kind, if any.")


class Problem(BaseModel):
    """An error (RFC 9457 problem details, `application/problem+json`). Extension members a
    client may rely on: `errors` (422), `current_status` (order-review 409), `rule` and `field`
    (inventory 409), `state`, `carrier_code` and `tracking_number` (fulfilment 409),
    `current_state`, `rule`, `order_id` and `cancel` (aftersales 409)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "urn:lvyue:problem:conflict",
                    "title": "Conflict",
                    "status": 409,
                    "detail": "order is cancelled: cannot record a customer contact (allowed "
                    "when: abnormal)",
                    "current_status": "cancelled",
                },
                {
                    "type": "urn:lvyue:problem:invalid-request",
                    "title": "Unprocessable Entity",
                    "status": 422,
                    "detail": "query.limit: Input should be less than or equal to 1000",
                    "errors": [
                        {
                            "loc": ["query", "limit"],
                            "msg": "Input should be less than or equal to 1000",
                            "type": "less_than_equal",
                        }
                    ],
                },
            ]
        },
    )

    type: str = Field(
        description="The problem type: urn:lvyue:problem:<kind> (not-found, conflict, "
        "invalid-request, unauthorized, forbidden, content-too-large, unsupported-media-type, "
        "database-unavailable, ...)."
    )
    title: str = Field(description="The HTTP status phrase.")
    status: int = Field(ge=400, le=599, description="The HTTP status code, repeated.")
    detail: str = Field(description="What went wrong in this request, for a person.")
    errors: list[FieldError] | None = Field(
        default=None, description="Every field error of a 422 (absent otherwise)."
    )


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


def problem(
    status: int,
    detail: str,
    *,
    errors: Sequence[Mapping[str, Any]] | None = None,
    type_: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> ProblemResponse:
    """The one way an error body is built."""
    body: dict[str, Any] = {
        "type": type_ or problem_type(status),
        "title": _title(status),
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = [_field_error(e) for e in errors]
    body.update({k: v for k, v in extensions.items() if k not in _RESERVED})
    return ProblemResponse(body, status_code=status, headers=dict(headers or {}))


def _field_error(error: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "loc": [p if isinstance(p, int) else str(p) for p in error.get("loc", ())],
        "msg": str(error.get("msg", "")),
    }
    if error.get("type") is not None:
        out["type"] = str(error["type"])
    return out


def _summary(errors: Sequence[Mapping[str, Any]]) -> str:
    parts = []
    for e in errors[:3]:
        where = ".".join(str(p) for p in e.get("loc", ()))
        parts.append(f"{where}: {e.get('msg', '')}" if where else str(e.get("msg", "")))
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(parts) + more if parts else "the request is invalid"


def from_detail(
    status: int, detail: Any, headers: Mapping[str, str] | None = None
) -> ProblemResponse:
    """A problem from an exception's detail: a sentence, field errors, or a dict with `msg`."""
    if isinstance(detail, list) and all(isinstance(e, Mapping) for e in detail):
        return problem(status, _summary(detail), errors=detail, headers=headers)
    if isinstance(detail, Mapping):
        extensions = {k: v for k, v in detail.items() if k not in ("msg", "detail")}
        text = detail.get("msg", detail.get("detail"))
        return problem(
            status,
            str(text) if text is not None else _title(status),
            headers=headers,
            **extensions,
        )
    text = str(detail) if detail is not None else _title(status)
    return problem(status, text, headers=headers)


async def _http_exception(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code < 400 or exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return from_detail(exc.status_code, exc.detail, exc.headers)


async def _validation_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # Only where and what: the input itself (and pydantic's ctx) may carry a buyer's data.
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type")}
        for e in exc.errors()
    ]
    return problem(422, _summary(errors), errors=errors)


async def _webhook_rejected(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, WebhookRejected)
    return from_detail(exc.status, exc.detail)


async def _unexpected(request: Request, exc: Exception) -> Response:
    # Starlette re-raises it after this answer: the traceback is logged (masked) there.
    return problem(500, f"internal error while serving {request.url.path}")


def install_problem_handlers(app: FastAPI) -> None:
    """Every error of the app answers a `Problem`."""
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(WebhookRejected, _webhook_rejected)
    app.add_exception_handler(Exception, _unexpected)
