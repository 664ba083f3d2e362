"""The whole system as processes (`lvyue run`): an order flagged for its remark and an unpaid
order are resolved by an operator accepting their findings and reach `shipment.requested`; a
role the policy does not allow is refused; who and why are in the history and the events."""

from __future__ import annotations

import functools
import signal
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lvyue.cli.embedded import free_port, free_port_block
from lvyue.cli.services import PORT_BLOCK
from lvyue.common.events.catalog import FindingAccepted, OrderReviewed
from lvyue.common.events.codec import from_kafka
from lvyue.common.settings import DEV_TOKENS, DEV_WEBHOOK_SECRET
from tests.support.kafka import read_topic
from tests.support.polling import eventually
from tests.support.processes import (
    http,
    post_order,
    start_lvyue_run,
    stock_over_api,
    stop,
    wait_http,
)
from tests.support.webhooks import canonical_sample

OPERATOR = "cs-xiaolin"
OPS = {"Authorization": f"Bearer {DEV_TOKENS['ops'][0]}", "X-Operator": OPERATOR}
WAREHOUSE_STAFF = {"Authorization": f"Bearer {DEV_TOKENS['warehouse'][0]}"}
WAREHOUSE = "WH-SH-01"


def _order(**changes: Any) -> dict[str, Any]:
    data = canonical_sample()
    data.update(
        remarks="", platform_order_id=uuid.uuid4().hex, paid_at=datetime.now(UTC).isoformat()
    )
    data.update(changes)
    return data


async def test_operators_resolve_remark_and_unpaid_orders_which_then_ship(tmp_path: Path) -> None:
    port, broker_port = free_port_block(PORT_BLOCK), free_port()
    review, inventory = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}"
    bootstrap = f"127.0.0.1:{broker_port}"
    log = tmp_path / "run.log"
    run = start_lvyue_run(tmp_path / "state", broker_port, port, log)
    try:
        for n in range(3):  # order-review, inventory, fulfilment
            wait_http(f"http://127.0.0.1:{port + n}/readyz", process=run)
        await stock_over_api(inventory, OPS, WAREHOUSE, ("TEA-LJ-250G", "CUP-GLASS-01"))

        async def post(order: dict[str, Any]) -> str:
            return await post_order(review, order, DEV_WEBHOOK_SECRET)

        async def view(order_id: str) -> dict[str, Any]:
            data: dict[str, Any] = (
                await http("GET", f"{review}/orders/{order_id}", headers=OPS)
            ).json()
            return data

        async def accept(order_id: str, rule: str, body: dict[str, str], headers: Any) -> Any:
            return await http(
                "POST", f"{review}/orders/{order_id}/findings/{rule}/acceptance",
                json=body, headers=headers,
            )  # fmt: skip

        remarked = await post(_order(remarks="买家备注：请开增值税发票"))
        unpaid = await post(_order(paid=False))
        for order_id in (remarked, unpaid):
            await eventually(
                functools.partial(view, order_id),
                lambda v: v["status"] == "abnormal",
                timeout_s=30,
            )
        queue = (await http("GET", f"{review}/abnormal-orders", headers=OPS)).json()
        assert queue["total"] == 2, queue
        assert {f["reason"] for e in queue["items"] for f in e["findings"]} == {
            "remark_needs_human", "not_paid"
        }  # fmt: skip

        refused = await accept(
            remarked, "remark_needs_human", {"reason": "remark_handled"}, WAREHOUSE_STAFF
        )
        assert refused.status_code == 403, refused.text
        assert (await view(remarked))["status"] == "abnormal"

        handled = await accept(
            remarked, "remark_needs_human",
            {"reason": "remark_handled", "note": "发票已在平台开具"}, OPS,
        )  # fmt: skip
        confirmed = await accept(
            unpaid, "not_paid", {"reason": "payment_confirmed", "note": "平台后台显示已付款"}, OPS
        )
        assert (handled.status_code, confirmed.status_code) == (201, 201), (
            handled.text, confirmed.text
        )  # fmt: skip
        assert handled.json()["status"] == confirmed.json()["status"] == "reviewed"

        requested = await read_topic(bootstrap, "shipment.requested", expect=2, timeout_s=60)
        assert sorted(r.key.decode() for r in requested) == sorted([remarked, unpaid])

        for order_id, rule, why in (
            (remarked, "remark_needs_human", "remark_handled"),
            (unpaid, "not_paid", "payment_confirmed"),
        ):
            history = (await view(order_id))["history"]
            accepted = [h for h in history if h["details"].get("accepted")]
            assert accepted[0]["details"]["accepted"][0]["actor"] == OPERATOR, history
            assert f"{rule} accepted by {OPERATOR} (ops): {why}" in accepted[0]["note"]
            assert history[-1]["status"] == "reviewed"

        reviewed = await read_topic(bootstrap, "order.reviewed", expect=2)
        who = {
            str(p.order_id): [
                (a.rule, a.reason, a.accepted_by, a.roles) for a in p.accepted_findings
            ]
            for p in (
                from_kafka(r.key, r.value, r.headers).payload(OrderReviewed) for r in reviewed
            )
        }
        assert who == {
            remarked: [("remark_needs_human", "remark_handled", OPERATOR, ("ops",))],
            unpaid: [("not_paid", "payment_confirmed", OPERATOR, ("ops",))],
        }
        events = await read_topic(bootstrap, "order.finding_accepted", expect=2)
        notes = {
            r.key.decode(): from_kafka(r.key, r.value, r.headers).payload(FindingAccepted)
            for r in events
        }
        assert notes[remarked].acceptance.note == "发票已在平台开具"
        assert notes[unpaid].acceptance.accepted_by == OPERATOR
    finally:
        assert stop(run, signal.SIGINT, timeout_s=60) == 0, log.read_text()[-3000:]
