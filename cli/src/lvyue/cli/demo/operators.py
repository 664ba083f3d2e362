"""The operators' side: work the abnormal queue a little, and handle after-sale requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from rich.console import Console

from lvyue.cli.demo.client import Services
from lvyue.cli.demo.intake import Intake
from lvyue.cli.demo.warehouse import WAREHOUSE_OPERATOR, Warehouse

OPERATOR = "cs-xiaolin"
CONTACT_NOTES = {
    "phone_invalid": ("sms", "no_answer", "手机号位数不对，已发短信请买家在订单留言补正"),
    "remark_needs_human": ("phone", "reached", "已联系买家，新地址待买家在平台修改"),
    "not_paid": ("im", "message_left", "旺旺提醒买家尽快付款"),
    "out_of_stock": ("phone", "reached", "告知缺货，买家同意等补货"),
    "unknown_sku": ("im", "message_left", "商品编码未建档，已通知商品组"),
    "address_incomplete": ("phone", "reached", "买家口述了完整地址，已更正"),
}
# Findings an operator accepts once handled (the first order of each kind): rule, reason, note.
ACCEPTANCES = {
    "remark_needs_human": ("remark_handled", "已按买家留言在平台改好地址"),
    "not_paid": ("payment_confirmed", "平台后台显示已付款"),
}
# (type, reason, description) of the after-sale requests, in turn.
CASES = (
    ("return_and_refund", "quality", "枕芯有异味，申请退货退款"),
    ("refund_only", "damaged_in_transit", "外包装破损，水壶磕坏了，只要退款"),
    ("exchange", "wrong_item", "发错颜色了，想换成灰色"),
    ("return_and_refund", "changed_mind", "买多了，七天无理由退货"),
)
CASE_EVERY = 3  # one dispatched order in three asks for an after-sale
LEAVE_UNANSWERED = 4  # every 4th case waits for an answer, so aftersale_response_24h is open


@dataclass
class Desk:
    # What the desk did, each only once the service said yes: the summary counts these.
    contacted: set[str] = field(default_factory=set)  # contact recorded (201)
    corrected: set[str] = field(default_factory=set)  # correction accepted (200)
    accepted: dict[str, str] = field(default_factory=dict)  # finding kind → order id
    # What it decided: each order of ours in the queue is worked once.
    handled: set[str] = field(default_factory=set)
    left_uncontacted: set[str] = field(default_factory=set)  # its 2 h contact deadline runs on
    tried_acceptance: set[str] = field(default_factory=set)  # finding kinds tried once
    queue_seen: int = 0
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)  # order id → case
    asked: list[str] = field(default_factory=list)  # order ids chosen for a case, in turn

    def settled(self) -> bool:
        """No case has a step left that the demo would take."""
        return all(
            c["state"] not in ("awaiting_return", "awaiting_refund")
            and (c["state"] != "requested" or self._unanswered(c))
            for c in self.cases.values()
        ) and len(self.cases) == len(self.asked)

    def _unanswered(self, case: dict[str, Any]) -> bool:
        return self.asked.index(str(case["order_id"])) % LEAVE_UNANSWERED == LEAVE_UNANSWERED - 1


def work_abnormal_queue(svc: Services, console: Console, intake: Intake, desk: Desk) -> None:
    """Records a contact on this run's abnormal orders, corrects one incomplete address and
    accepts the finding of one remark-flagged and one unpaid order once the buyer is reached."""
    response = svc.call("GET", f"{svc.review}/abnormal-orders", params={"limit": 500})
    response.raise_for_status()
    ours = intake.by_platform_order_id()
    entries = [e for e in response.json()["items"] if e["platform_order_id"] in ours]
    desk.queue_seen = max(desk.queue_seen, len(entries))
    contacts = corrections = acceptances = 0
    for entry in entries:
        posted = ours[entry["platform_order_id"]]
        order_id, kind = posted.order_id, posted.spec.abnormal or ""
        if kind == "address_incomplete" and not desk.corrected and order_id not in desk.handled:
            desk.handled.add(order_id)
            if _correct_address(svc, console, posted.order_id, intake):
                corrections += 1
                desk.corrected.add(order_id)
        if order_id in desk.handled:
            reached = order_id in desk.contacted
            if reached and kind in ACCEPTANCES and kind not in desk.tried_acceptance:
                desk.tried_acceptance.add(kind)
                if _accept(svc, console, order_id, kind):
                    acceptances += 1
                    desk.accepted[kind] = order_id
            continue
        desk.handled.add(order_id)
        if len(desk.handled) % 3 == 0:
            desk.left_uncontacted.add(order_id)
            continue  # left uncontacted: its 2 h contact deadline runs on
        channel, outcome, note = CONTACT_NOTES.get(kind, ("phone", "reached", "已联系买家"))
        contact = svc.call(
            "POST",
            f"{svc.review}/orders/{order_id}/contacts",
            operator=OPERATOR,
            json={"channel": channel, "outcome": outcome, "note": note},
        )
        if contact.status_code == 201:
            contacts += 1
            desk.contacted.add(order_id)
    if contacts or corrections or acceptances:
        console.print(
            f"[bold yellow]operator[/] abnormal queue has {len(entries)} of ours: "
            f"{contacts} buyer(s) contacted, {corrections} address corrected, "
            f"{acceptances} finding(s) accepted"
        )


def _accept(svc: Services, console: Console, order_id: str, rule: str) -> int:
    reason, note = ACCEPTANCES[rule]
    accepted = svc.call(
        "POST",
        f"{svc.review}/orders/{order_id}/findings/{rule}/acceptance",
        operator=OPERATOR,
        json={"reason": reason, "note": note},
    )
    if accepted.status_code not in (200, 201):
        console.print(
            f"[red]acceptance[/] {order_id} refused {accepted.status_code}: {accepted.text}"
        )
        return 0
    console.print(
        f"[bold yellow]operator[/] accepted {rule} of {order_id} ({reason}: {note}) → "
        f"{accepted.json()['status']}"
    )
    return 1


def _correct_address(svc: Services, console: Console, order_id: str, intake: Intake) -> int:
    view = svc.call("GET", f"{svc.review}/orders/{order_id}")
    if view.status_code != 200:
        return 0
    receiver = view.json()["order"]["receiver"]
    place = intake.posted[order_id].spec.person.place
    receiver["address"].update(
        province=place.province,
        city=place.city,
        district=place.district,
        street=place.town + place.street,
        postal_code=place.postal_code,
    )
    fixed = svc.call(
        "POST",
        f"{svc.review}/orders/{order_id}/corrections",
        operator=OPERATOR,
        json={"receiver": receiver},
    )
    if fixed.status_code != 200:
        console.print(f"[red]correction[/] {order_id} refused {fixed.status_code}: {fixed.text}")
        return 0
    console.print(
        f"[bold yellow]operator[/] corrected the address of {receiver['name']}'s order → "
        f"{place.full} (now {fixed.json()['status']})"
    )
    return 1


def work_aftersales(
    svc: Services, console: Console, intake: Intake, wh: Warehouse, desk: Desk
) -> None:
    """Opens cases for some dispatched orders and moves each one step along per pass."""
    for n, order_id in enumerate(wh.dispatched):
        if n % CASE_EVERY == 0 and order_id not in desk.asked:
            desk.asked.append(order_id)
    for turn, order_id in enumerate(desk.asked):
        case = desk.cases.get(order_id)
        spec = intake.posted[order_id].spec
        line = spec.lines[0]
        if case is None:
            kind, reason, text = CASES[turn % len(CASES)]
            body: dict[str, Any] = {
                "order_id": order_id, "type": kind, "reason": reason, "description": text,
                "lines": [{"sku": line.product.sku, "quantity": 1}],
            }  # fmt: skip
            if kind != "exchange":
                body["refund_amount"] = f"{line.product.price:.2f}"
            opened = svc.call(
                "POST",
                f"{svc.aftersales}/aftersales",
                operator=OPERATOR,
                headers={"Idempotency-Key": f"demo-{order_id}"},
                json=body,
            )
            if opened.status_code in (200, 201):
                desk.cases[order_id] = opened.json()
                console.print(
                    f"[bold blue]aftersale[/] {spec.person.name} ({spec.platform}) asks: "
                    f"{text} → case {opened.json()['id']}"
                )
            continue  # 404/409: aftersales has not heard of the shipment yet; next pass
        _advance(svc, console, case, turn, line.product.price, line.product.sku, desk)


def _advance(
    svc: Services,
    console: Console,
    case: dict[str, Any],
    turn: int,
    price: Decimal,
    sku: str,
    desk: Desk,
) -> None:
    base = f"{svc.aftersales}/aftersales/{case['id']}"
    state = case["state"]
    if state == "requested":
        if turn % LEAVE_UNANSWERED == LEAVE_UNANSWERED - 1:
            return
        step = svc.call("POST", f"{base}/approve", operator=OPERATOR, json={"note": "同意"})
        label = "approved"
    elif state == "awaiting_return":
        step = svc.call(
            "POST",
            f"{base}/return-received",
            role="warehouse",
            operator=WAREHOUSE_OPERATOR,
            json={"lines": [{"sku": sku, "quantity": 1, "sellable": turn % 2 == 0}]},
        )
        label = "goods back in the warehouse"
    elif state == "awaiting_refund":
        step = svc.call(
            "POST",
            f"{base}/refund",
            operator=OPERATOR,
            json={"reference": f"RF-{case['id']}", "amount": f"{price:.2f}"},
        )
        label = f"refunded ¥{price:.2f}"
    else:
        return
    if step.status_code == 200:
        desk.cases[str(case["order_id"])] = step.json()
        console.print(
            f"[bold blue]aftersale[/] case {case['id']}: {label} → {step.json()['state']}"
        )
    else:
        console.print(f"[red]aftersale[/] case {case['id']} {label}: {step.status_code}")
