"""The SLA board: per SLA of every service, compliance against the 98% objective over the
services' compliance window, open / at-risk / breached now, the breach forecast, and the
last 24 hours as a sparkline. Each service answers for its own deadlines."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from lvyue.common.deadlines.routes import SlaHourRead, SlaSummaryPage, SlaSummaryRead
from lvyue.console.api.deps import Page, Viewer
from lvyue.console.upstream import SERVICES, Service, UpstreamDown

router = APIRouter()

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


def rows_of(service: Service, body: object) -> list[SlaRow]:
    page = SlaSummaryPage.model_validate(body)
    return [SlaRow(service, item, sparkline(item.hourly)) for item in page.items]


async def _summary(page: Page, service: Service) -> list[SlaRow] | str:
    """The service's rows, or why it has none (down, refused)."""
    try:
        answer = await page.state.upstream.get(service, "/deadlines/summary", page.operator)
    except UpstreamDown:
        return page.t("upstream_down", service=service)
    return rows_of(service, answer.body) if answer.ok else f"{service}: {answer.detail}"


@router.get("/board", response_class=HTMLResponse)
async def board(page: Viewer) -> Response:
    """The page; with HX-Request, only the table (the page polls it)."""
    answers = await asyncio.gather(*(_summary(page, s) for s in SERVICES))
    rows = [row for answer in answers if not isinstance(answer, str) for row in answer]
    problems = [answer for answer in answers if isinstance(answer, str)]
    return page.render(
        "board_rows.html" if page.request.headers.get("HX-Request") else "board.html",
        rows=rows,
        problems=problems,
        objective=OBJECTIVE,
        spark_width=SPARK_WIDTH,
        spark_height=SPARK_HEIGHT,
    )
