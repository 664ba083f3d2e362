"""The SLA board: per SLA of every service, compliance against the 98% objective over the
services' compliance window, open / at-risk / breached now, the breach forecast, and the
last 24 hours as a sparkline. Each service answers for its own deadlines."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from lvyue.console.api.deps import Page, Viewer
from lvyue.console.upstream import SERVICES, Service, UpstreamDown

router = APIRouter()

OBJECTIVE = 0.98  # the operations manual's fulfilment rate (rule fulfilment_rate_98)
SPARK_WIDTH, SPARK_HEIGHT = 96, 20


@dataclass(frozen=True)
class SlaRow:
    service: Service
    sla: str
    open: int
    at_risk: int
    overdue: int
    met: int
    breached: int
    compliance: float | None
    predicted: int
    spark: str  # SVG polyline points of hourly compliance

    @property
    def below_objective(self) -> bool:
        return self.compliance is not None and self.compliance < OBJECTIVE


def sparkline(hourly: list[dict[str, Any]]) -> str:
    """Points of an SVG polyline: each hour's compliance (an hour with nothing decided is 100%)."""
    if not hourly:
        return ""
    step = SPARK_WIDTH / max(1, len(hourly) - 1)
    points = []
    for n, hour in enumerate(hourly):
        met, breached = int(hour.get("met", 0)), int(hour.get("breached", 0))
        share = met / (met + breached) if met + breached else 1.0
        points.append(f"{n * step:.1f},{(1 - share) * (SPARK_HEIGHT - 2) + 1:.1f}")
    return " ".join(points)


def rows_of(service: Service, body: dict[str, Any]) -> list[SlaRow]:
    return [
        SlaRow(
            service,
            item["sla"],
            item["open"],
            item["at_risk"],
            item["overdue"],
            item["met"],
            item["breached"],
            item["compliance"],
            item["predicted_breaches"],
            sparkline(item["hourly"]),
        )
        for item in body["items"]
    ]


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
