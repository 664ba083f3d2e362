"""Reading a week's ledger from the database, and publishing last week's once, on schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo

import structlog

from lvyue.aftersales import repository
from lvyue.aftersales.ledger.figures import WeekFacts, build_ledger
from lvyue.aftersales.ledger.weeks import IsoWeek, due_week
from lvyue.aftersales.settings import AftersalesSettings
from lvyue.common.events.catalog import (
    AFTERSALE_LEDGER_PUBLISHED,
    AftersalesLedger,
    LedgerPublished,
)
from lvyue.common.uow import UnitOfWork

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class LedgerPolicy:
    """When and how the ledger is made, built once from settings."""

    tz: ZoneInfo
    publish_weekday: int  # Monday = 0
    publish_at: time
    top_issues: int

    @classmethod
    def from_settings(cls, settings: AftersalesSettings) -> LedgerPolicy:
        hour, minute = (int(x) for x in settings.ledger_publish_time.split(":"))
        return cls(
            tz=ZoneInfo(settings.timezone),
            publish_weekday=settings.ledger_publish_weekday,
            publish_at=time(hour, minute),
            top_issues=settings.ledger_top_issues,
        )


async def _facts(uow: UnitOfWork, week: IsoWeek, tz: ZoneInfo) -> WeekFacts:
    start, end = week.bounds(tz)
    return WeekFacts(
        cases=await repository.cases_opened(uow.session, start, end),
        refunds=await repository.refunds_paid(uow.session, start, end),
    )


async def read_ledger(uow: UnitOfWork, week: IsoWeek, policy: LedgerPolicy) -> AftersalesLedger:
    """The week's ledger as of now, compared with the week before (inside an open uow)."""
    current = await _facts(uow, week, policy.tz)
    previous = await _facts(uow, week.previous(), policy.tz)
    return build_ledger(
        week, policy.tz, current, previous, top=policy.top_issues, generated_at=uow.clock.now()
    )


async def publish_due_ledger(uow: UnitOfWork, policy: LedgerPolicy) -> str | None:
    """Publishes last week's ledger once its time has come; the week, or None if nothing to do.

    The week is claimed by primary key in the same transaction as the event, so replicas
    racing for it publish it once, and a restart does not publish it again.
    """
    async with uow:
        now = uow.clock.now()
        week = due_week(now, policy.tz, weekday=policy.publish_weekday, at=policy.publish_at)
        if week is None or not await repository.claim_week(uow.session, str(week), now):
            return None
        ledger = await read_ledger(uow, week, policy)
        await uow.emit(
            AFTERSALE_LEDGER_PUBLISHED,
            LedgerPublished(ledger=ledger, published_at=now),
            subject=str(week),
        )
        await uow.commit()
    log.info("aftersales_ledger_published", week=str(week), cases=ledger.totals.cases)
    return str(week)
