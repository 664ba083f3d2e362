"""GET /deadlines/forecast and GET /deadlines/summary, served by every service for its own
deadlines."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Query, Request
from pydantic import BaseModel

from lvyue.common.deadlines.forecast import read_forecast
from lvyue.common.deadlines.summary import Summary, SummaryWindows, read_summary
from lvyue.common.openapi import examples, page_of
from lvyue.common.query import FilterText, Limit, Offset
from lvyue.common.records import model_from
from lvyue.common.routing import api_router
from lvyue.common.security import GrantedRoles, Role, require_role

router = api_router(tags=["deadlines"])

Viewer = Annotated[GrantedRoles, Depends(require_role(Role.OPS, Role.WAREHOUSE, Role.SRE))]


_FORECAST = {
    "deadline_id": "3f2b8c1e-5a7d-4e0b-9c61-2d8f4a1b7e90",
    "sla": "dispatch_1600",
    "subject": "0b9e4c52-6c1e-4a53-9d35-2f4f2f7f6a10",
    "queue": "WH-SH-01",
    "due_at": "2026-12-05T16:00:00+08:00",
    "position": 42,
    "rate_per_hour": 30.0,
    "predicted_at": "2026-12-05T16:24:00+08:00",
    "will_breach": True,
    "breached": False,
}


class ForecastRead(BaseModel):
    model_config = examples(_FORECAST)

    deadline_id: uuid.UUID
    sla: str
    subject: str
    queue: str | None
    due_at: datetime
    position: int
    rate_per_hour: float
    predicted_at: datetime | None
    will_breach: bool | None
    breached: bool


class ForecastPage(BaseModel):
    model_config = examples(
        page_of(_FORECAST, limit=50, window_s=3600.0, computed_at="2026-12-05T15:12:00+08:00")
    )

    items: list[ForecastRead]
    total: int
    limit: int
    offset: int
    window_s: float
    computed_at: datetime


@router.get("/deadlines/forecast", response_model=ForecastPage)
async def get_forecast(
    request: Request,
    _: Viewer,
    sla: FilterText = None,
    queue: FilterText = None,
    will_breach: Annotated[
        bool | None, Query(description="Only those predicted to breach (true) or not (false).")
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ForecastPage:
    """Each unclosed deadline with its predicted completion and whether it will breach: its
    queue (a warehouse for dispatch) is assumed to keep the completion rate of the recent
    window, working soonest due first. Soonest predicted breach first."""
    kernel = request.app.state.kernel
    settings = request.app.state.settings
    window = settings.deadline_forecast_window_s
    async with kernel.uow() as uow:
        now = uow.clock.now()
        forecasts = await read_forecast(uow.session, now=now, window=timedelta(seconds=window))
    chosen = [
        f
        for f in forecasts
        if (sla is None or f.sla == sla)
        and (queue is None or f.queue == queue)
        and (will_breach is None or bool(f.will_breach) == will_breach)
    ]
    chosen.sort(key=lambda f: (not f.will_breach, f.due_at))
    page = chosen[offset : offset + limit]
    return ForecastPage(
        items=[ForecastRead(**asdict(f)) for f in page],
        total=len(chosen),
        limit=limit,
        offset=offset,
        window_s=window,
        computed_at=now,
    )


_HOUR = {"start": "2026-12-05T07:00:00Z", "met": 118, "breached": 3}
_SUMMARY = {
    "sla": "dispatch_1600",
    "open": 240,
    "at_risk": 31,
    "overdue": 2,
    "met": 2104,
    "breached": 17,
    "compliance": 0.992,
    "predicted_breaches": 4,
    "hourly": [_HOUR],
}
MAX_HOURS = 168  # a week of hourly buckets


class SlaHourRead(BaseModel):
    model_config = examples(_HOUR)

    start: datetime
    met: int
    breached: int


class SlaSummaryRead(BaseModel):
    model_config = examples(_SUMMARY)

    sla: str
    open: int
    at_risk: int
    overdue: int
    met: int
    breached: int
    compliance: float | None
    predicted_breaches: int
    hourly: list[SlaHourRead]


class SlaSummaryPage(BaseModel):
    model_config = examples(
        {
            "items": [_SUMMARY],
            "window_s": 86400.0,
            "hours": 1,
            "computed_at": "2026-12-05T15:12:00+08:00",
        }
    )

    items: list[SlaSummaryRead]
    window_s: float
    hours: int
    computed_at: datetime


Hours = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_HOURS,
        description="Hourly buckets to answer, the last the current hour (1 to a week).",
    ),
]


@router.get("/deadlines/summary", response_model=SlaSummaryPage)
async def get_summary(request: Request, _: Viewer, hours: Hours = 24) -> SlaSummaryPage:
    """Per SLA, by name: open, at-risk and overdue deadlines now; met, breached and compliance
    over the compliance window (`window_s`); open deadlines the breach forecast says will be
    late; and met and breached in each of the last `hours` hours (UTC), oldest first. Counted
    as the lvyue_sla_* gauges count them, from the same settings, so the board and the
    metrics agree. Reused for `LVYUE_SLA_SUMMARY_MAX_AGE_S` (`computed_at` says when it was
    read)."""
    kernel = request.app.state.kernel
    settings = request.app.state.settings
    windows = SummaryWindows(
        at_risk_fraction=settings.deadline_at_risk_fraction,
        compliance=timedelta(seconds=settings.sla_compliance_window_s),
        forecast=timedelta(seconds=settings.deadline_forecast_window_s),
    )

    async def read() -> Summary:
        async with kernel.uow() as uow:
            now = uow.clock.now()
            return Summary(
                now, await read_summary(uow.session, now=now, windows=windows, hours=hours)
            )

    summary = await kernel.summaries.get(hours, read)
    items = [
        model_from(SlaSummaryRead, s, hourly=[model_from(SlaHourRead, h) for h in s.hourly])
        for s in summary.slas
    ]
    return SlaSummaryPage(
        items=items,
        window_s=windows.compliance.total_seconds(),
        hours=hours,
        computed_at=summary.computed_at,
    )
