"""The abnormal queue (soonest contact deadline first), one order's findings, history and
receiver, and what an operator does about it: accept a finding, record a contact, cancel."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

import structlog
from fastapi import Depends, Form, Path, Query
from fastapi.responses import HTMLResponse, Response

from lvyue.common.routing import api_router
from lvyue.console.api.deps import Ops, Page, check_csrf
from lvyue.console.paging import query_of

router = api_router()
log = structlog.get_logger(__name__)

REASONS = (
    "remark_needs_human", "not_paid", "blacklisted", "phone_invalid", "address_incomplete",
    "unknown_sku", "invalid_quantity", "out_of_stock",
)  # fmt: skip
ACCEPTANCE_REASONS = (
    "remark_handled", "payment_confirmed", "blacklist_false_positive", "phone_confirmed", "other",
)  # fmt: skip
# The reason a form offers first for each finding; order-review decides what it accepts.
SUGGESTED = {
    "remark_needs_human": "remark_handled",
    "not_paid": "payment_confirmed",
    "blacklisted": "blacklist_false_positive",
    "phone_invalid": "phone_confirmed",
}
# Findings only a correction resolves (order-review never accepts them): no accept form.
CORRECTED_ONLY = frozenset(
    {"address_incomplete", "unknown_sku", "invalid_quantity", "out_of_stock"}
)
CHANNELS = ("phone", "sms", "im", "email")
OUTCOMES = ("reached", "no_answer", "wrong_number", "message_left")
# Where the order's own page sends an action's answer: a key of the console's messages.
NOTICES = frozenset({"accepted", "contact_recorded", "cancelled", "corrected"})

Reason = Annotated[str | None, Query(max_length=64)]
Text = Annotated[str | None, Query(max_length=128)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


@dataclass(frozen=True)
class QueueFilters:
    reason: str | None
    platform: str | None
    shop_id: str | None
    overdue: bool | None

    def params(self) -> dict[str, str | bool | None]:
        return {"reason": self.reason, "platform": self.platform, "shop_id": self.shop_id,
                "overdue": self.overdue}  # fmt: skip


@router.get("/queue", response_class=HTMLResponse)
async def queue(
    page: Ops,
    reason: Reason = None,
    platform: Text = None,
    shop_id: Text = None,
    overdue: bool | None = None,
    offset: Offset = 0,
) -> Response:
    """The page; with HX-Request, only its rows (the page polls them)."""
    filters = QueueFilters(reason if reason in REASONS else None, platform, shop_id, overdue)
    return await page.list_page(
        "order-review",
        "/abnormal-orders",
        filters.params(),
        offset=offset,
        templates=("queue.html", "queue_rows.html"),
        items="entries",
        reasons=REASONS,
        acceptance_reasons=ACCEPTANCE_REASONS,
        suggested=SUGGESTED,
        corrected_only=CORRECTED_ONLY,
        **vars(filters),
        query=query_of(**filters.params()),
        zone_of=page.in_zone_of_shop,
        notice=page.t(n) if (n := page.request.query_params.get("done")) in NOTICES else None,
    )


@router.get("/orders/{order_id}", response_class=HTMLResponse)
async def order(page: Ops, order_id: uuid.UUID) -> Response:
    answer = await page.state.upstream.get("order-review", f"/orders/{order_id}", page.operator)
    if not answer.ok:
        return page.render("message.html", answer.status, heading=answer.detail)
    body = answer.body
    done = page.request.query_params.get("done")
    return page.render(
        "order.html",
        order=body,
        findings=_open_findings(body),
        receiver=body["order"].get("receiver") or {},
        zone=page.in_zone_of_shop(body["order"]["platform"], body["order"]["shop_id"]),
        acceptance_reasons=ACCEPTANCE_REASONS,
        suggested=SUGGESTED,
        corrected_only=CORRECTED_ONLY,
        channels=CHANNELS,
        outcomes=OUTCOMES,
        notice=page.t(done, status=body["status"]) if done in NOTICES else None,
    )


def _open_findings(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The findings of the order's last review, less those accepted since; none unless abnormal."""
    if body.get("status") != "abnormal":
        return []
    reviews = [h for h in body.get("history", []) if h.get("status") == "abnormal"]
    findings = (reviews[-1].get("details") or {}).get("findings", []) if reviews else []
    accepted = {a.get("rule") for a in body.get("acceptances", [])}
    return [f for f in findings if isinstance(f, dict) and f.get("reason") not in accepted]


@router.post("/orders/{order_id}/reveal", response_class=HTMLResponse,
             dependencies=[Depends(check_csrf)])  # fmt: skip
async def reveal(page: Ops, order_id: uuid.UUID) -> Response:
    """The receiver unmasked, for this operator, logged: who saw whose data and when."""
    answer = await page.state.upstream.get("order-review", f"/orders/{order_id}", page.operator)
    if not answer.ok:
        return page.render("message.html", answer.status, heading=answer.detail)
    log.info("personal_data_revealed", operator=page.operator.operator, order_id=str(order_id))
    return page.render(
        "receiver.html",
        order=answer.body,
        receiver=answer.body["order"].get("receiver") or {},
        revealed=True,
    )


async def _act(page: Page, order_id: uuid.UUID, action: str, body: dict[str, Any], done: str,
               *, back_to_queue: bool = False) -> Response:  # fmt: skip
    target = f"/queue?done={done}" if back_to_queue else f"/orders/{order_id}?done={done}"
    path = f"/orders/{order_id}/{action}"
    return await page.act("order-review", path, body, done=target, back=f"/orders/{order_id}")


@router.post("/orders/{order_id}/findings/{rule}/acceptance", dependencies=[Depends(check_csrf)])
async def accept(
    page: Ops,
    order_id: uuid.UUID,
    rule: Annotated[str, Path(max_length=64, pattern=r"^[a-z_]+$")],
    reason: Annotated[str, Form(max_length=64)],
    note: Annotated[str, Form(max_length=2000)] = "",
    back: Annotated[str, Form(max_length=16)] = "order",
) -> Response:
    action = f"findings/{rule}/acceptance"
    return await _act(page, order_id, action, {"reason": reason, "note": note}, "accepted",
                      back_to_queue=back == "queue")  # fmt: skip


@router.post("/orders/{order_id}/contacts", dependencies=[Depends(check_csrf)])
async def contact(
    page: Ops,
    order_id: uuid.UUID,
    channel: Annotated[str, Form(max_length=16)],
    outcome: Annotated[str, Form(max_length=16)],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    body = {"channel": channel, "outcome": outcome, "note": note}
    return await _act(page, order_id, "contacts", body, "contact_recorded")


@router.post("/orders/{order_id}/cancel", dependencies=[Depends(check_csrf)])
async def cancel(
    page: Ops, order_id: uuid.UUID, reason: Annotated[str, Form(max_length=500)]
) -> Response:
    body = {"reason": reason}
    return await _act(page, order_id, "cancel", body, "cancelled")


ADDRESS_FIELDS = ("country", "province", "city", "district", "street", "detail", "postal_code")


@router.post("/orders/{order_id}/corrections", dependencies=[Depends(check_csrf)])
async def correct(
    page: Ops,
    order_id: uuid.UUID,
    name: Annotated[str, Form(max_length=64)],
    phone: Annotated[str, Form(max_length=32)],
    country: Annotated[str, Form(max_length=2)],
    province: Annotated[str, Form(max_length=64)],
    city: Annotated[str, Form(max_length=64)],
    street: Annotated[str, Form(max_length=255)],
    district: Annotated[str, Form(max_length=64)] = "",
    detail: Annotated[str, Form(max_length=255)] = "",
    postal_code: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """The receiver as corrected with the buyer; order-review reviews the order again."""
    address = dict(zip(ADDRESS_FIELDS, (country, province, city, district, street, detail,
                                        postal_code), strict=True))  # fmt: skip
    body = {"receiver": {"name": name, "phone": phone, "address": address}}
    return await _act(page, order_id, "corrections", body, "corrected")
