"""The weekly ledger on a seeded week and the week before: JSON, CSV, and its publication."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from lvyue.aftersales.ledger.publish import publish_due_ledger
from lvyue.aftersales.settings import AftersalesSettings
from lvyue.common.clock import ManualClock
from lvyue.common.events.catalog import LedgerPublished
from tests.support.aftersales import CUP, TEA, Aftersales, money, order, running, webhook_body
from tests.support.inventory import OPS, SRE

CHINA = timezone(timedelta(hours=8))
W09 = datetime(2026, 2, 25, 10, 0, tzinfo=CHINA)  # Wednesday of 2026-W09
W10 = datetime(2026, 3, 3, 10, 0, tzinfo=CHINA)  # Tuesday of 2026-W10
W11_JUST_STARTED = datetime(2026, 3, 9, 0, 30, tzinfo=CHINA)  # still 2026-W10 in UTC


async def _refunded(app: Aftersales, case_id: str, reference: str, amount: str) -> None:
    await app.act(case_id, "refund", {"reference": reference, "amount": amount})


async def _seed(app: Aftersales) -> None:
    """Two weeks of cases on three orders of three platforms (figures worked out below)."""
    app.clock.set(W09)
    o1, _ = await app.shipped_order(order(platform="taobao"))  # TEA 2 × 168, CUP 1 × 39.90
    o2, _ = await app.shipped_order(
        order(((TEA, 1, "168.00"),), paid_total="168.00", platform="jd")
    )
    o3, placed3 = await app.shipped_order(
        order(((CUP, 2, "39.90"),), paid_total="79.80", platform="shopify")
    )
    c1 = (await app.open(o1, "refund_only", amount="100.00"))["id"]
    await app.act(c1, "approve")
    await _refunded(app, c1, "R-C1", "100.00")
    c5 = (await app.open(o2, "refund_only", reason="changed_mind", amount="20.00"))["id"]
    await app.act(c5, "approve")

    app.clock.set(W10)
    c2 = (await app.open(o1, "return_and_refund", lines=((TEA, 1), (CUP, 1)), amount="207.90"))[
        "id"
    ]
    await app.act(c2, "approve")
    back = [{"sku": sku, "quantity": 1, "sellable": True} for sku in (TEA, CUP)]
    await app.act(c2, "return-received", {"lines": back})
    await _refunded(app, c2, "R-C2", "200.00")
    c3 = (await app.open(o2, "refund_only", reason="damaged_in_transit", amount="50.00"))["id"]
    await app.act(c3, "approve")
    await _refunded(app, c3, "R-C3", "50.00")
    exchange = webhook_body(placed3, "exchange", reason="wrong_item", refund_amount=None)
    assert (await app.webhook(exchange)).status_code == 201
    await _refunded(app, c5, "R-C5", "20.00")  # opened in W09, paid in W10

    app.clock.set(W11_JUST_STARTED)
    await app.open(o3, "refund_only", reason="other", lines=((CUP, 1),), amount="10.00")


def _row(entry: dict[str, Any]) -> tuple[Any, ...]:
    return (
        entry["cases"], entry["units"], entry["refunds"], money(entry["refund_amount"]),
        entry["previous_cases"], money(entry["previous_refund_amount"]),
        entry["cases_change"], money(entry["refund_amount_change"]),
    )  # fmt: skip


_m = money


async def test_ledger_counts_cases_and_refunds_by_reason_sku_and_platform(
    make_aftersales_settings: Callable[..., AftersalesSettings],
) -> None:
    settings = make_aftersales_settings(ledger_check_interval_s=3600, ledger_top_issues=3)
    async with running(settings, ManualClock(W09)) as app:
        await _seed(app)
        response = await app.client.get("/reports/aftersales-ledger?week=2026-W10", headers=SRE)
        as_csv = await app.client.get(
            "/reports/aftersales-ledger?week=2026-W10", headers={**OPS, "Accept": "text/csv"}
        )
        by_format = await app.client.get(
            "/reports/aftersales-ledger?week=2026-W10&format=csv", headers=OPS
        )
        next_week = await app.client.get("/reports/aftersales-ledger?week=2026-W11", headers=OPS)
        bad = [
            (await app.client.get(f"/reports/aftersales-ledger?week={w}", headers=OPS)).status_code
            for w in ("2026-W54", "2026-47", "last")
        ]

    assert response.status_code == 200, response.text
    ledger = response.json()
    assert (ledger["week"], ledger["previous_week"], ledger["timezone"]) == (
        "2026-W10", "2026-W09", "Asia/Shanghai",
    )  # fmt: skip
    assert ledger["starts_at"].startswith("2026-03-01T16:00:00")  # Monday 00:00 in Shanghai
    assert _row(ledger["totals"]) == (3, 4, 3, _m("270.00"), 2, _m("100.00"), 1, _m("170.00"))
    assert [(e["key"], *_row(e)) for e in ledger["by_reason"]] == [
        ("quality", 1, 2, 1, _m("200.00"), 1, _m("100.00"), 0, _m("100.00")),
        ("damaged_in_transit", 1, 1, 1, _m("50.00"), 0, _m("0.00"), 1, _m("50.00")),
        ("wrong_item", 1, 1, 0, _m("0.00"), 0, _m("0.00"), 1, _m("0.00")),
        ("changed_mind", 0, 0, 1, _m("20.00"), 1, _m("0.00"), -1, _m("20.00")),
    ]
    # C2's 200.00 is split over its lines by value: TEA 168.00, CUP 39.90
    assert [(e["key"], *_row(e)) for e in ledger["by_sku"]] == [
        (TEA, 2, 2, 3, _m("231.62"), 2, _m("100.00"), 0, _m("131.62")),
        (CUP, 2, 2, 1, _m("38.38"), 0, _m("0.00"), 2, _m("38.38")),
    ]
    assert [(e["key"], *_row(e)) for e in ledger["by_platform"]] == [
        ("taobao", 1, 2, 1, _m("200.00"), 1, _m("100.00"), 0, _m("100.00")),
        ("jd", 1, 1, 2, _m("70.00"), 1, _m("0.00"), 0, _m("70.00")),
        ("shopify", 1, 1, 0, _m("0.00"), 0, _m("0.00"), 1, _m("0.00")),
    ]
    assert [(i["sku"], i["reason"], *_row(i)) for i in ledger["top_issues"]] == [
        (TEA, "quality", 1, 1, 1, _m("161.62"), 1, _m("100.00"), 0, _m("61.62")),
        (TEA, "damaged_in_transit", 1, 1, 1, _m("50.00"), 0, _m("0.00"), 1, _m("50.00")),
        (CUP, "quality", 1, 1, 1, _m("38.38"), 0, _m("0.00"), 1, _m("38.38")),
    ]
    assert next_week.json()["totals"]["cases"] == 1
    assert bad == [422, 422, 422]

    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert by_format.text == as_csv.text
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert rows[0] == {
        "week": "2026-W10", "section": "total", "key": "", "cases": "3", "units": "4",
        "refunds": "3", "refund_amount": "270.00", "previous_cases": "2",
        "previous_refund_amount": "100.00", "cases_change": "1", "refund_amount_change": "170.00",
    }  # fmt: skip
    assert [(r["section"], r["key"]) for r in rows[1:]] == [
        ("reason", "quality"), ("reason", "damaged_in_transit"), ("reason", "wrong_item"),
        ("reason", "changed_mind"), ("sku", TEA), ("sku", CUP), ("platform", "taobao"),
        ("platform", "jd"), ("platform", "shopify"), ("top_issue", f"{TEA}/quality"),
        ("top_issue", f"{TEA}/damaged_in_transit"), ("top_issue", f"{CUP}/quality"),
    ]  # fmt: skip
    assert rows[4]["cases_change"] == "-1"


async def test_last_weeks_ledger_is_published_once_after_its_time(
    make_aftersales_settings: Callable[..., AftersalesSettings],
) -> None:
    monday_w10 = datetime(2026, 3, 2, 8, 0, tzinfo=CHINA)  # before 09:00: nothing is due
    async with running(make_aftersales_settings(), ManualClock(monday_w10)) as app:
        order_id, _ = await app.shipped_order()
        await app.open(order_id, "refund_only")
        await asyncio.sleep(0.5)  # the job looks (nothing due before Monday 09:00)
        app.clock.set(datetime(2026, 3, 9, 9, 30, tzinfo=CHINA))
        published = await app.events("aftersale.ledger_published", expect=1, settle_s=1.0)
        kernel, policy = app.app.state.kernel, app.app.state.ledger
        again = await asyncio.gather(*(publish_due_ledger(kernel.uow(), policy) for _ in range(3)))
        after = await app.events("aftersale.ledger_published", expect=1, settle_s=1.0)

    assert [e.subject for e in published] == ["2026-W10"]
    event = published[0].payload(LedgerPublished)
    assert event.ledger.week == "2026-W10"
    assert event.ledger.totals.cases == 1
    assert again == [None, None, None]
    assert len(after) == 1


async def test_replicas_racing_for_the_same_week_publish_it_once(
    make_aftersales_settings: Callable[..., AftersalesSettings],
) -> None:
    settings = make_aftersales_settings(ledger_check_interval_s=3600)
    async with running(settings, ManualClock(datetime(2026, 3, 9, 8, 0, tzinfo=CHINA))) as app:
        await asyncio.sleep(0.3)  # the job's first look: not yet due; next look in an hour
        app.clock.set(datetime(2026, 3, 9, 9, 0, tzinfo=CHINA))
        kernel, policy = app.app.state.kernel, app.app.state.ledger
        claims = await asyncio.gather(*(publish_due_ledger(kernel.uow(), policy) for _ in range(4)))
        published = await app.events("aftersale.ledger_published", expect=1, settle_s=1.0)

    assert sorted(claims, key=str) == ["2026-W10", None, None, None]
    assert [e.subject for e in published] == ["2026-W10"]
    assert published[0].payload(LedgerPublished).ledger.totals.cases == 0
    assert uuid.UUID(str(published[0].id))
