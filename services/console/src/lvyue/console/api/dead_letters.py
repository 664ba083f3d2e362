"""Dead letters, for SRE: every service's messages its consumer parked and nobody republished
yet, the error of each, and a button republishing one once its cause is fixed. Each service
answers for its own (GET /dead-letters, POST /dead-letters/{id}/redrive) and records the staff
member who redrove it (X-Operator)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path
from fastapi.responses import HTMLResponse, Response

from lvyue.common.routing import api_router
from lvyue.console.api.deps import Page, Sre, check_csrf
from lvyue.console.upstream import SERVICES, Service, UpstreamDown

router = api_router()

LetterId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@dataclass(frozen=True)
class Waiting:
    service: Service
    letter: dict[str, Any]


async def _waiting(page: Page, service: Service) -> list[Waiting] | str:
    """The service's waiting dead letters (its first page), or why it has none to show."""
    try:
        answer = await page.state.upstream.get(
            service,
            "/dead-letters",
            page.operator,
            {"redriven": False, "limit": page.settings.console_page_size},
        )
    except UpstreamDown:
        return page.t("upstream_down", service=service)
    if not answer.ok:
        return f"{service}: {answer.detail}"
    return [Waiting(service, item) for item in answer.body["items"]]


@router.get("/dead-letters", response_class=HTMLResponse)
async def dead_letters(page: Sre) -> Response:
    """The page; with HX-Request, only the table (the page polls it)."""
    answers = await asyncio.gather(*(_waiting(page, s) for s in SERVICES))
    return page.render(
        "dead_letter_rows.html" if page.request.headers.get("HX-Request") else "dead_letters.html",
        rows=[w for answer in answers if not isinstance(answer, str) for w in answer],
        problems=[answer for answer in answers if isinstance(answer, str)],
        notice=page.t("done") if page.request.query_params.get("done") else None,
    )


@router.post("/dead-letters/{service}/{letter_id}/redrive", dependencies=[Depends(check_csrf)])
async def redrive(page: Sre, service: Service, letter_id: LetterId) -> Response:
    path = f"/dead-letters/{letter_id}/redrive"
    return await page.act(service, path, {}, done="/dead-letters?done=1", back="/dead-letters")
