"""GET /deadlines/summary against the real PostgreSQL, with a fixed clock: per SLA the open,
at-risk and overdue deadlines, the compliance window's met and breached, the forecast's
predicted breaches, and each hour's met and breached in the hour it was decided."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from lvyue.common.clock import ManualClock
from lvyue.common.deadlines.store import NewDeadline, breach_overdue, close_deadline, open_many
from lvyue.order_review.main import build_app
from lvyue.order_review.settings import OrderReviewSettings
from tests.support.apps import QUIET, serve
from tests.support.inventory import API_TOKENS, OPS, PLATFORM, SRE, WAREHOUSE_STAFF

NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
WINDOW = timedelta(hours=6)  # the compliance window: decided since 04:30


def at(hh: int, mm: int = 0) -> datetime:
    """That time on NOW's day."""
    return NOW.replace(hour=hh, minute=mm)


@asynccontextmanager
async def board(
    make_settings: Callable[..., OrderReviewSettings],
) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """The order-review app on a clock at NOW, serving requests only (no scanner moving the
    rows behind the test), every role's token known; the client and the kernel."""
    settings = make_settings(
        api_tokens=API_TOKENS,
        deadline_scanner_enabled=False,
        sla_compliance_window_s=WINDOW.total_seconds(),
        **QUIET,
    )
    app = build_app(settings, clock=ManualClock(NOW))
    async with serve(app) as client:
        yield client, app.state.kernel


async def opened(kernel: Any, sla: str, subject: str, opened_at: datetime, due: datetime) -> None:
    async with kernel.uow() as uow:
        await open_many(uow, [NewDeadline(sla, subject, opened_at, due)])
        await uow.commit()


async def closed(kernel: Any, sla: str, subject: str, closed_at: datetime) -> None:
    async with kernel.uow() as uow:
        assert await close_deadline(uow, sla=sla, subject=subject, closed_at=closed_at)
        await uow.commit()


async def decided(
    kernel: Any, sla: str, subject: str, opened_at: datetime, due: datetime, closed_at: datetime
) -> None:
    await opened(kernel, sla, subject, opened_at, due)
    await closed(kernel, sla, subject, closed_at)


async def summary(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    answer = await client.get("/deadlines/summary", params=params, headers=OPS)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def hourly(item: dict[str, Any]) -> list[tuple[datetime, int, int]]:
    return [(datetime.fromisoformat(h["start"]), h["met"], h["breached"]) for h in item["hourly"]]


async def test_each_sla_is_counted_now_over_the_window_and_hour_by_hour(
    make_settings: Callable[..., OrderReviewSettings],
) -> None:
    async with board(make_settings) as (client, kernel):
        # pick: breached by the scanner at 08:31 and still open; closed late at 07:40
        await opened(kernel, "pick", "scanned-late", at(6), at(8, 30))
        async with kernel.uow() as uow:
            assert len(await breach_overdue(uow.session, now=at(8, 31), limit=10)) == 1
            await uow.commit()
        await decided(kernel, "pick", "closed-late", at(5), at(6), at(7, 40))
        # met at 06:59 (in the window, before the first of 4 hours), 07:00, 09:15 and 10:05
        await decided(kernel, "pick", "met-0659", at(5), at(12), at(6, 59))
        await decided(kernel, "pick", "met-0700", at(5), at(12), at(7))
        await decided(kernel, "pick", "met-0915", at(7), at(12), at(9, 15))
        await decided(kernel, "pick", "met-1005", at(7), at(12), at(10, 5))
        # before the window (04:30): neither in the totals nor in any hour
        await decided(kernel, "pick", "old-breach", at(1), at(2), at(3))
        await decided(kernel, "pick", "old-met", at(1), at(12), at(4))
        # open now (10:30): 62.5% of its time gone; 83% (at risk, past 80%); past due
        await opened(kernel, "pick", "on-track", at(8), at(12))
        await opened(kernel, "pick", "at-risk", at(8), at(11))
        await opened(kernel, "pick", "overdue", at(8), at(10))
        await decided(kernel, "contact", "met-1010", at(9), at(12), at(10, 10))
        await opened(kernel, "review", "waiting", at(10), at(18))

        body = await summary(client, hours=4)

    assert (body["hours"], body["window_s"]) == (4, 21600.0)
    assert datetime.fromisoformat(body["computed_at"]) == NOW
    items = {item["sla"]: item for item in body["items"]}
    assert [item["sla"] for item in body["items"]] == ["contact", "pick", "review"]
    hours = [at(7), at(8), at(9), at(10)]

    pick = items["pick"]
    assert (pick["open"], pick["at_risk"], pick["overdue"]) == (3, 1, 1)
    assert (pick["met"], pick["breached"], pick["compliance"]) == (4, 2, 4 / 6)
    assert hourly(pick) == list(zip(hours, [1, 0, 1, 1], [1, 1, 0, 0], strict=True))
    # One completion in the last hour (10:05): after the past-due one and the scanned one
    # the line reaches at-risk (due 11:00) at 13:30 and on-track (12:00) at 14:30, both late;
    # the past-due open one counts too, the already breached one does not.
    assert pick["predicted_breaches"] == 3

    contact = items["contact"]  # outcomes only
    assert (contact["open"], contact["at_risk"], contact["overdue"]) == (0, 0, 0)
    assert (contact["met"], contact["breached"], contact["compliance"]) == (1, 0, 1.0)
    assert hourly(contact) == list(zip(hours, [0, 0, 0, 1], [0, 0, 0, 0], strict=True))
    assert contact["predicted_breaches"] == 0

    review = items["review"]  # open only: nothing decided, no rate to forecast by
    assert (review["open"], review["at_risk"], review["overdue"]) == (1, 0, 0)
    assert (review["met"], review["breached"], review["compliance"]) == (0, 0, None)
    assert hourly(review) == [(start, 0, 0) for start in hours]
    assert review["predicted_breaches"] == 0


async def test_a_day_of_hours_by_default_and_a_week_at_most(
    make_settings: Callable[..., OrderReviewSettings],
) -> None:
    async with board(make_settings) as (client, kernel):
        since = NOW - timedelta(hours=30)
        await decided(kernel, "pack", "yesterday", since, at(12), NOW - timedelta(hours=23))
        await decided(kernel, "pack", "too-early", since, at(12), NOW - timedelta(hours=24))
        day = await summary(client)
        week = await summary(client, hours=168)
        refused = {
            hours: await client.get("/deadlines/summary", params={"hours": hours}, headers=OPS)
            for hours in (0, 169, "a")
        }

    [pack] = day["items"]
    assert day["hours"] == 24
    starts = [start for start, _, _ in hourly(pack)]
    assert starts == [at(10) - timedelta(hours=n) for n in range(23, -1, -1)]
    # 23 hours ago (11:30 yesterday) is in the first hour; 24 hours ago is before it
    assert hourly(pack)[0] == (at(10) - timedelta(hours=23), 1, 0)
    assert sum(met for _, met, _ in hourly(pack)) == 1
    assert len(week["items"][0]["hourly"]) == 168
    assert sum(h["met"] for h in week["items"][0]["hourly"]) == 2
    for hours, answer in refused.items():
        assert answer.status_code == 422, (hours, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert [e["loc"] for e in answer.json()["errors"]] == [["query", "hours"]], hours


async def test_only_ops_warehouse_and_sre_read_the_board(
    make_settings: Callable[..., OrderReviewSettings],
) -> None:
    async with board(make_settings) as (client, kernel):
        await opened(kernel, "pick", "order-1", at(10), at(12))
        anonymous = await client.get("/deadlines/summary")
        platform = await client.get("/deadlines/summary", headers=PLATFORM)
        readers = [
            await client.get("/deadlines/summary", headers=who)
            for who in (OPS, WAREHOUSE_STAFF, SRE)
        ]
    assert anonymous.status_code == 401, anonymous.text
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert platform.status_code == 403, platform.text
    assert [r.status_code for r in readers] == [200, 200, 200]
    assert {r.json()["items"][0]["open"] for r in readers} == {1}
