"""The SLA board: per SLA of every service, compliance against the 98% objective over the
services' compliance window, open / at-risk / breached now, the breach forecast, and the
last 24 hours as a sparkline. Each service answers for its own deadlines."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from fastapi.responses import HTMLResponse, Response

from lvyue.common.deadlines.routes import SlaHourRead, SlaSummaryPage, SlaSummaryRead
from lvyue.common.routing import api_router
from lvyue.console.api.deps import Page, Viewer
from lvyue.console.upstream import SERVICES, Service, UpstreamDown
from lvyue.console.views import clock_time

router = api_router()

OBJECTIVE = 0.98  # the operations manual's fulfilment rate (rule fulfilment_rate_98)
SPARK_WIDTH, SPARK_HEIGHT = 96, 20


@dataclass(frozen=True)
class SlaRow:
    """One SLA as the board shows it: the service's summary (the kernel's answer model), which
    service answered for it, and its last hours as a sparkline."""

    service: Service
    summary: SlaSummaryRead
    spark: str  # SVG polyline points of hourly compliance

    @property
    def below_objective(self) -> bool:
        compliance = self.summary.compliance
        return compliance is not None and compliance < OBJECTIVE


def sparkline(hourly: Sequence[SlaHourRead]) -> str:
    """Points of an SVG polyline: each hour's compliance (an hour with nothing decided is 100%)."""
    if not hourly:
        return ""
    step = SPARK_WIDTH / max(1, len(hourly) - 1)
    points = []
    for n, hour in enumerate(hourly):
        decided = hour.met + hour.breached
        share = hour.met / decided if decided else 1.0
        points.append(f"{n * step:.1f},{(1 - share) * (SPARK_HEIGHT - 2) + 1:.1f}")
    return " ".join(points)


@dataclass(frozen=True)
class ServiceRows:
    """One service's part of the board and when the service read it."""

    rows: list[SlaRow]
    computed_at: datetime


def rows_of(service: Service, body: object) -> ServiceRows:
    page = SlaSummaryPage.model_validate(body)
    rows = [SlaRow(service, item, sparkline(item.hourly)) for item in page.items]
    return ServiceRows(rows, page.computed_at)


async def _summary(page: Page, service: Service) -> ServiceRows | str:
    """The service's rows, or why it has none (down, refused)."""
    try:
        answer = await page.state.upstream.get(service, "/deadlines/summary", page.operator)
    except UpstreamDown:
        return page.t("upstream_down", service=service)
    return rows_of(service, answer.body) if answer.ok else f"{service}: {answer.detail}"


@router.get("/board", response_class=HTMLResponse)
async def board(page: Viewer) -> Response:
    """The page; with HX-Request, only the table (the page polls it). It says when its
    figures were read: the oldest of the services' answers (each reuses its own a few
    seconds)."""
    answers = await asyncio.gather(*(_summary(page, s) for s in SERVICES))
    parts = [answer for answer in answers if not isinstance(answer, str)]
    problems = [answer for answer in answers if isinstance(answer, str)]
    return page.render(
        "board_rows.html" if page.request.headers.get("HX-Request") else "board.html",
        rows=[row for part in parts for row in part.rows],
        as_of=clock_time(min(p.computed_at for p in parts), page.zone) if parts else None,
        problems=problems,
        objective=OBJECTIVE,
        spark_width=SPARK_WIDTH,
        spark_height=SPARK_HEIGHT,
    )
