"""After-sale cases with their response and refund deadlines, and the agent's answers:
approve, reject, refund."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Form, Query
from fastapi.responses import HTMLResponse, Response

from lvyue.common.routing import api_router
from lvyue.console.api.deps import CaseWorker, Ops, Page, WarehouseLead, check_csrf
from lvyue.console.paging import query_of

router = api_router()

STATES = (
    "requested", "awaiting_return", "awaiting_refund", "awaiting_replacement", "refunded",
    "rejected", "completed",
)  # fmt: skip
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
State = Annotated[str | None, Query(max_length=32)]


@router.get("/cases", response_class=HTMLResponse)
async def cases(page: CaseWorker, state: State = None, offset: Offset = 0) -> Response:
    """The cases; with HX-Request, only the rows (the page polls them)."""
    chosen = state if state in STATES else None
    return await page.list_page(
        "aftersales",
        "/aftersales",
        {"state": chosen},
        offset=offset,
        templates=("cases.html", "case_rows.html"),
        items="cases",
        states=STATES,
        state=chosen,
        query=query_of(state=chosen),
        zone_of=page.in_zone_of_shop,
        notice=page.t("done") if page.request.query_params.get("done") else None,
    )


async def _answer(page: Page, case_id: uuid.UUID, action: str, body: dict[str, Any]) -> Response:
    path = f"/aftersales/{case_id}/{action}"
    return await page.act("aftersales", path, body, done="/cases?done=1", back="/cases")


@router.post("/cases/{case_id}/approve", dependencies=[Depends(check_csrf)])
async def approve(
    page: Ops, case_id: uuid.UUID, note: Annotated[str, Form(max_length=2000)] = ""
) -> Response:
    return await _answer(page, case_id, "approve", {"note": note})


@router.post("/cases/{case_id}/reject", dependencies=[Depends(check_csrf)])
async def reject(
    page: Ops, case_id: uuid.UUID, reason: Annotated[str, Form(max_length=2000)]
) -> Response:
    return await _answer(page, case_id, "reject", {"reason": reason})


@router.post("/cases/{case_id}/refund", dependencies=[Depends(check_csrf)])
async def refund(
    page: Ops,
    case_id: uuid.UUID,
    reference: Annotated[str, Form(max_length=128)],
    amount: Annotated[str, Form(max_length=20)],
) -> Response:
    return await _answer(page, case_id, "refund", {"reference": reference, "amount": amount})


MAX_RETURN_LINES = 500


@router.post("/cases/{case_id}/return-received", dependencies=[Depends(check_csrf)])
async def return_received(page: WarehouseLead, case_id: uuid.UUID) -> Response:
    """What came back, per SKU: `quantity:<sku>` units, `sellable:<sku>` when fit to sell."""
    form = await page.request.form(max_fields=2 * MAX_RETURN_LINES + 1)
    lines: list[dict[str, Any]] = []
    for key, value in form.multi_items():
        if not key.startswith("quantity:") or not isinstance(value, str) or not value.strip():
            continue
        sku = key.removeprefix("quantity:")
        text = value.strip()
        # isdigit() alone admits "²", "₅" and "٣": int() then fails or reads another script.
        if not (text.isascii() and text.isdigit()) or len(text) > 6 or not sku or len(sku) > 128:
            return page.render("message.html", 422, heading=f"{key}: a whole number of units",
                               back="/cases")  # fmt: skip
        if int(text) > 0:
            lines.append({"sku": sku, "quantity": int(text), "sellable": f"sellable:{sku}" in form})
    if not lines:
        return page.render("message.html", 422, heading="quantity: nothing came back",
                           back="/cases")  # fmt: skip
    path = f"/aftersales/{case_id}/return-received"
    return await page.act("aftersales", path, {"lines": lines}, done="/cases?done=1",
                          back="/cases")  # fmt: skip
