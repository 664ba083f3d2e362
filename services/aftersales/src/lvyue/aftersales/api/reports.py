"""The weekly after-sale ledger (rule aftersale_ledger), as JSON or CSV."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import HTTPException, Query, Request, Response

from lvyue.aftersales.api.deps import LedgerPolicyDep, Reporter
from lvyue.aftersales.ledger.publish import read_ledger
from lvyue.aftersales.ledger.render import render_csv
from lvyue.aftersales.ledger.weeks import IsoWeek
from lvyue.common.app import UowFactoryDep
from lvyue.common.events.catalog import AftersalesLedger
from lvyue.common.routing import api_router

router = api_router(tags=["reports"])


def _wants_csv(request: Request, format: str | None) -> bool:
    if format is not None:
        return format == "csv"
    return "text/csv" in request.headers.get("accept", "").lower()


_CSV_EXAMPLE = (
    "week,section,key,cases,units,refunds,refund_amount,previous_cases,"
    "previous_refund_amount,cases_change,refund_amount_change\n"
    "2026-W49,total,,12,14,9,1520.40,10,1288.00,2,232.40\n"
    "2026-W49,reason,quality,5,6,4,672.00,3,504.00,2,168.00\n"
)


@router.get(
    "/reports/aftersales-ledger",
    response_model=AftersalesLedger,
    responses={
        200: {
            "content": {"text/csv": {"example": _CSV_EXAMPLE}},
            "description": "JSON, or CSV when asked for",
        },
        422: {"description": "not an ISO week such as 2026-W47"},
    },
)
async def aftersales_ledger(
    request: Request,
    uow: UowFactoryDep,
    policy: LedgerPolicyDep,
    _: Reporter,
    week: Annotated[
        str | None,
        Query(description="ISO week in the business timezone, e.g. 2026-W47; default: last week"),
    ] = None,
    format: Annotated[Literal["json", "csv"] | None, Query()] = None,
) -> Response | AftersalesLedger:
    """Cases and refunds by reason, SKU and platform, with the change since the week before."""
    async with uow() as unit:
        try:
            wanted = (
                IsoWeek.parse(week)
                if week is not None
                else IsoWeek.containing(unit.clock.now(), policy.tz).previous()
            )
        except ValueError as exc:
            raise HTTPException(422, [{"loc": ["query", "week"], "msg": str(exc)}]) from exc
        ledger = await read_ledger(unit, wanted, policy)
    if _wants_csv(request, format):
        filename = f"aftersales-ledger-{ledger.week}.csv"
        return Response(
            render_csv(ledger),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return ledger
