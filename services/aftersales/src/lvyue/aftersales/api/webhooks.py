"""Platform intake: the canonical after-sale webhook, signed like the canonical order webhook,
and the after-sale pushes of Taobao, JD, Pinduoduo and Douyin (lvyue.aftersales.platforms),
signed as each platform signs them.

Shopify's refunds/returns webhooks are not mapped (see docs/aftersales-format.md).
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from lvyue.aftersales import platforms
from lvyue.aftersales.api import webhook_auth
from lvyue.aftersales.api.deps import CtxDep
from lvyue.aftersales.api.schemas import IntakeRead, WebhookCaseCreate
from lvyue.aftersales.api.webhook_docs import canonical_webhook_openapi, platform_webhook_openapi
from lvyue.aftersales.commands import OpenCase, Opened, open_case
from lvyue.aftersales.commands.intake import PlatformOrderRef
from lvyue.aftersales.domain import Source
from lvyue.common.app import UowFactoryDep
from lvyue.common.openapi import problem_responses
from lvyue.common.routing import api_router
from lvyue.common.settings import KernelSettings
from lvyue.common.webhooks import WebhookRejected, read_json_request
from lvyue.common.webhooks.deliveries import Delivery

router = api_router(tags=["platform webhooks"])

_REPEAT = "a repeated delivery or platform case: the case opened before"
_NOT_SHIPPED = "the order has not shipped (cancel it instead), or a rule refuses"


def _unprocessable(errors: list[dict[str, Any]]) -> HTTPException:
    return HTTPException(422, errors)


async def _read(request: Request) -> tuple[bytes, dict[str, Any]]:
    try:
        return await read_json_request(request)
    except WebhookRejected as exc:
        raise HTTPException(exc.status, exc.detail) from exc


def _parse(data: dict[str, Any]) -> WebhookCaseCreate:
    try:
        return WebhookCaseCreate.model_validate(data)
    except ValidationError as exc:
        raise _unprocessable(
            [
                {"loc": ["body", *map(str, e["loc"])], "msg": e["msg"], "type": e["type"]}
                for e in exc.errors(include_url=False, include_input=False)
            ]
        ) from exc


@router.post(
    "/webhooks/lvyue/aftersales",
    status_code=201,
    response_model=IntakeRead,
    responses={
        200: {"model": IntakeRead, "description": _REPEAT},
        **problem_responses(
            described={
                401: "signature missing, wrong or stale",
                404: "aftersales has not heard of the order",
                409: _NOT_SHIPPED,
                413: "body over 1 MiB",
                415: "not application/json, or not UTF-8",
                422: "malformed JSON, JSON past its limits, or fields break the format",
            }
        ),
    },
    openapi_extra=canonical_webhook_openapi(),
)
async def receive_aftersale(request: Request, uow: UowFactoryDep, ctx: CtxDep) -> JSONResponse:
    """Accepts a signed after-sale request; it is committed before the 2xx."""
    body, data = await _read(request)
    settings: KernelSettings = request.app.state.settings
    try:
        webhook_auth.verify(
            request.headers, body, settings.webhook_secret, now=uow.wall_clock.now()
        )
    except webhook_auth.SignatureError as exc:
        raise HTTPException(401, str(exc)) from exc
    case = _parse(data)
    delivery = webhook_auth.delivery_id(request.headers) or (
        "sha256:" + hashlib.sha256(body).hexdigest()
    )
    cmd = OpenCase(
        order=PlatformOrderRef(case.platform, case.shop_id, case.platform_order_id),
        type=case.type,
        reason=case.reason,
        description=case.description,
        lines=tuple((line.sku, line.quantity) for line in case.lines),
        requested_amount=case.refund_amount,
        source=Source.WEBHOOK,
        actor=f"webhook:{case.platform}/{case.shop_id}",
        platform_aftersale_id=case.platform_aftersale_id,
        delivery=Delivery(webhook_auth.PLATFORM, delivery, body.decode()),
    )
    return _answer(await open_case(cmd, uow(), ctx))


def _answer(opened: Opened) -> JSONResponse:
    read = IntakeRead(
        aftersale_id=opened.case.id,
        order_id=opened.case.order_id,
        state=opened.case.state,
        duplicate=not opened.created,
    )
    return JSONResponse(read.model_dump(mode="json"), status_code=201 if opened.created else 200)


def _mapped(
    adapter: platforms.AftersaleAdapter, payload: dict[str, Any]
) -> platforms.PlatformAftersale:
    try:
        return adapter.to_aftersale(payload)
    except platforms.PayloadError as exc:
        raise _unprocessable(
            [{"loc": ["body", *loc.split(".")], "msg": msg} for loc, msg in exc.field_errors]
        ) from exc


@router.post(
    "/webhooks/{platform}/aftersales",
    status_code=201,
    response_model=IntakeRead,
    responses={
        200: {"model": IntakeRead, "description": _REPEAT},
        **problem_responses(
            described={
                401: "signature missing or wrong, timestamp stale, or app unknown",
                404: "unknown platform, or aftersales has not heard of the order",
                409: _NOT_SHIPPED,
                413: "body over 1 MiB",
                415: "not application/json, or not UTF-8",
                422: "malformed JSON, JSON past its limits, or fields the platform lacks",
            }
        ),
    },
    openapi_extra=platform_webhook_openapi(),
)
async def receive_platform_aftersale(
    platform: str, request: Request, uow: UowFactoryDep, ctx: CtxDep
) -> JSONResponse:
    """Accepts a platform's signed after-sale push (the detail API's object); committed first."""
    adapter = platforms.ADAPTERS.get(platform)
    if adapter is None:
        known = ", ".join(sorted({webhook_auth.PLATFORM, *platforms.ADAPTERS}))
        raise HTTPException(404, f"unknown platform {platform!r}; known: {known}")
    body, payload = await _read(request)
    settings: KernelSettings = request.app.state.settings
    # Taobao, JD and Pinduoduo sign URL query parameters: adapters read them with the headers.
    params = {
        **{name.lower(): value for name, value in request.query_params.items()},
        **dict(request.headers),  # lower-cased names; a header wins on a clash
    }
    try:
        app_key = adapter.verify(params, body, settings.webhook_secret, now=uow.wall_clock.now())
    except platforms.SignatureError as exc:
        raise HTTPException(401, str(exc)) from exc
    case = _mapped(adapter, payload)
    cmd = OpenCase(
        # The push names no shop aftersales knows: the order is found by its platform id.
        order=PlatformOrderRef(platform, None, case.platform_order_id),
        type=case.type,
        reason=case.reason,
        description=case.description,
        lines=case.lines,
        requested_amount=case.refund_amount,
        source=Source.WEBHOOK,
        actor=f"webhook:{platform}/{app_key}",
        platform_aftersale_id=case.platform_aftersale_id,
        delivery=Delivery(platform, "sha256:" + hashlib.sha256(body).hexdigest(), body.decode()),
    )
    return _answer(await open_case(cmd, uow(), ctx))
