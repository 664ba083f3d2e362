"""What the commands need from settings, built once at start-up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from lvyue.aftersales.repository import Case
from lvyue.common.deadlines.forecast import shop_queue
from lvyue.common.deadlines.sla import SlaPolicies
from lvyue.common.deadlines.store import close_deadline, open_deadline
from lvyue.common.uow import UnitOfWork


@dataclass(frozen=True)
class CaseContext:
    sla: SlaPolicies
    shop_timezone: Callable[[str, str], ZoneInfo]  # (platform, shop_id) -> the shop's zone

    async def open_deadline(self, uow: UnitOfWork, sla: str, case: Case, now: datetime) -> None:
        """Opens the case's deadline, due by the shop's timezone (subject: the case id), in
        the queue of the shop's after-sales agents (the breach forecast goes per shop)."""
        tz = self.shop_timezone(case.platform, case.shop_id)
        await open_deadline(
            uow,
            sla=sla,
            subject=str(case.id),
            opened_at=now,
            due_at=self.sla.due_at(sla, now, tz=tz),
            queue=shop_queue(case.platform, case.shop_id),
        )

    async def close_deadline(self, uow: UnitOfWork, sla: str, case: Case, now: datetime) -> None:
        await close_deadline(uow, sla=sla, subject=str(case.id), closed_at=now)
