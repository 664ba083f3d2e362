"""The pick list per warehouse, urgent first, with the time to the cut-off, and the dispatch
confirmation a warehouse lead gives when a parcel leaves."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Form, Query
from fastapi.responses import HTMLResponse, Response

from lvyue.common.routing import api_router
from lvyue.console.api.deps import WarehouseLead, check_csrf
from lvyue.console.paging import query_of

router = api_router()

# Offered as the lead types; any code the warehouse's carrier contract uses is accepted.
CARRIERS = ("SF", "YTO", "ZTO", "STO", "YUNDA", "JD", "EMS", "JTSD")

Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Warehouse = Annotated[str | None, Query(max_length=64)]


@router.get("/pick-list", response_class=HTMLResponse)
async def pick_list(
    page: WarehouseLead, warehouse: Warehouse = None, offset: Offset = 0
) -> Response:
    """Pending shipments as fulfilment orders them (urgent, at risk, promotion, normal); with
    HX-Request, only the rows (the page polls them)."""
    done = page.request.query_params.get("done") == "dispatched"
    return await page.list_page(
        "fulfilment",
        "/shipments",
        {"status": "pending", "warehouse_id": warehouse},
        offset=offset,
        templates=("pick_list.html", "pick_rows.html"),
        items="shipments",
        warehouse=warehouse or "",
        warehouses=sorted(page.settings.warehouses),
        carriers=CARRIERS,
        query=query_of(warehouse=warehouse),
        zone_of=page.in_zone_of_warehouse,
        notice=page.t("dispatched") if done else None,
    )


@router.post("/shipments/{shipment_id}/dispatch", dependencies=[Depends(check_csrf)])
async def dispatch(
    page: WarehouseLead,
    shipment_id: uuid.UUID,
    carrier_code: Annotated[str, Form(max_length=32)],
    tracking_number: Annotated[str, Form(max_length=64)],
) -> Response:
    # Confirmed as it leaves: the moment the lead presses the button is when it left.
    body = {
        "carrier_code": carrier_code,
        "tracking_number": tracking_number,
        "dispatched_at": datetime.now(UTC).isoformat(),
    }
    path = f"/shipments/{shipment_id}/dispatch"
    return await page.act(
        "fulfilment", path, body, done="/pick-list?done=dispatched", back="/pick-list"
    )
