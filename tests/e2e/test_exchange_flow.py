"""An exchange through the whole system as processes (`lvyue run`): the order ships, the buyer
asks to exchange a unit, the return is restocked, fulfilment ships the replacement from its
own reservation, and the exchange completes with the replacement's tracking number."""

from __future__ import annotations

import json
import signal
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lvyue.cli.embedded import free_port, free_port_block
from lvyue.cli.services import PORT_BLOCK
from lvyue.common.settings import DEV_TOKENS, DEV_WEBHOOK_SECRET
from tests.support.polling import eventually
from tests.support.processes import http, start_lvyue_run, stop, wait_http
from tests.support.webhooks import canonical_sample, lvyue_headers

OPS = {"Authorization": f"Bearer {DEV_TOKENS['ops'][0]}"}
WAREHOUSE_STAFF = {"Authorization": f"Bearer {DEV_TOKENS['warehouse'][0]}"}
WAREHOUSE = "WH-SH-01"
TEA, CUP = "TEA-LJ-250G", "CUP-GLASS-01"  # the sample order: 2 × TEA, 1 × CUP


async def _ok(method: str, url: str, expect: int = 200, **kwargs: Any) -> Any:
    response = await http(method, url, **kwargs)
    assert response.status_code == expect, f"{method} {url}: {response.text}"
    return response.json()


async def test_an_exchange_ships_a_replacement_and_completes(tmp_path: Path) -> None:
    port = free_port_block(PORT_BLOCK)
    review, inventory, fulfilment, aftersales = (f"http://127.0.0.1:{port + n}" for n in range(4))
    log = tmp_path / "run.log"
    run = start_lvyue_run(tmp_path / "state", free_port(), port, log)
    try:
        for base in (review, inventory, fulfilment, aftersales):
            wait_http(f"{base}/readyz", process=run)
        for sku in (TEA, CUP):
            await _ok("PUT", f"{inventory}/skus/{WAREHOUSE}/{sku}", json={"name": sku},
                      headers=OPS, expect=201)  # fmt: skip
            receipt = {"warehouse_id": WAREHOUSE, "sku": sku, "quantity": 10,
                       "reference": f"PO-{sku}"}  # fmt: skip
            await _ok("POST", f"{inventory}/stock/receipts", json=receipt, headers=OPS, expect=201)

        async def tea() -> tuple[int, int]:
            view = await _ok("GET", f"{inventory}/skus/{WAREHOUSE}/{TEA}", headers=OPS)
            return view["on_hand"], view["reserved"]

        async def shipments(order_id: str) -> list[dict[str, Any]]:
            page = await _ok("GET", f"{fulfilment}/shipments", params={"order_id": order_id},
                             headers=OPS)  # fmt: skip
            items: list[dict[str, Any]] = page["items"]
            return items

        async def dispatch(shipment_id: str, tracking: str) -> None:
            body = {"carrier_code": "SF", "tracking_number": tracking,
                    "dispatched_at": datetime.now(UTC).isoformat()}  # fmt: skip
            await _ok("POST", f"{fulfilment}/shipments/{shipment_id}/dispatch", json=body,
                      headers=WAREHOUSE_STAFF)  # fmt: skip

        # the order: reviewed, reserved, dispatched, deducted
        order = canonical_sample()
        order.update(remarks="", platform_order_id=uuid.uuid4().hex,
                     paid_at=datetime.now(UTC).isoformat())  # fmt: skip
        body = json.dumps(order).encode()
        created = await _ok("POST", f"{review}/webhooks/lvyue/orders", expect=201, content=body,
                            headers=lvyue_headers(body, DEV_WEBHOOK_SECRET))  # fmt: skip
        order_id = created["order_id"]
        [own] = await eventually(lambda: shipments(order_id), lambda s: len(s) == 1, timeout_s=30)
        await dispatch(own["id"], "SF100000000001")
        assert await eventually(tea, lambda t: t == (8, 0), timeout_s=30) == (8, 0)

        # the buyer exchanges one TEA: approved, the unit comes back sellable
        case_body = {"order_id": order_id, "type": "exchange", "reason": "wrong_item",
                     "description": "发错了", "lines": [{"sku": TEA, "quantity": 1}]}  # fmt: skip
        key = {"Idempotency-Key": str(uuid.uuid4())}

        async def open_case() -> int:
            response = await http("POST", f"{aftersales}/aftersales", json=case_body,
                                  headers={**OPS, **key})  # fmt: skip
            return response.status_code

        await eventually(open_case, lambda status: status == 201, timeout_s=30)  # once shipped
        [case] = (await _ok("GET", f"{aftersales}/aftersales", params={"order_id": order_id},
                            headers=OPS))["items"]  # fmt: skip
        url = f"{aftersales}/aftersales/{case['id']}"
        await _ok("POST", f"{url}/approve", json={"note": "同意换货"}, headers=OPS)
        returned = await _ok(
            "POST", f"{url}/return-received", headers=WAREHOUSE_STAFF,
            json={"lines": [{"sku": TEA, "quantity": 1, "sellable": True}]},
        )  # fmt: skip
        assert returned["state"] == "awaiting_replacement"

        # restocked (9 on hand) and the replacement's unit held for it (1 reserved)
        assert await eventually(tea, lambda t: t == (9, 1), timeout_s=30) == (9, 1)
        both = await eventually(lambda: shipments(order_id), lambda s: len(s) == 2, timeout_s=30)
        [replacement] = [s for s in both if s["aftersale_id"] == case["id"]]
        assert (replacement["status"], replacement["priority"]) == ("pending", "urgent")
        assert replacement["lines"] == [{"sku": TEA, "name": "明前龙井 250g", "quantity": 1}]

        await dispatch(replacement["id"], "SF100000000002")
        done = await eventually(
            lambda: _ok("GET", url, headers=OPS), lambda c: c["state"] == "completed",
            timeout_s=30,
        )  # fmt: skip
        assert await eventually(tea, lambda t: t == (8, 0), timeout_s=30) == (8, 0)
        review_view = await _ok("GET", f"{review}/orders/{order_id}", headers=OPS)
    finally:
        assert stop(run, signal.SIGINT, timeout_s=60) == 0, log.read_text()[-3000:]

    assert done["replacement"]["tracking_number"] == "SF100000000002"
    assert done["replacement"]["shipment_id"] == replacement["id"]
    assert [h["state"] for h in done["history"]][-2:] == ["awaiting_replacement", "completed"]
    assert review_view["status"] == "shipped"
