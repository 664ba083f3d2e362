"""Aftersales' periodic jobs, run by the kernel (lvyue.common.jobs.every) in the first replica."""

from __future__ import annotations

from lvyue.aftersales.ledger.publish import LedgerPolicy, publish_due_ledger
from lvyue.aftersales.settings import AftersalesSettings
from lvyue.aftersales.tables import webhook_deliveries
from lvyue.common.bootstrap import BackgroundJob, Kernel
from lvyue.common.jobs import every
from lvyue.common.retention import webhook_deliveries_job


def jobs(settings: AftersalesSettings, ledger: LedgerPolicy) -> list[BackgroundJob]:
    async def publish_weekly_ledger(kernel: Kernel) -> None:
        """The weekly after-sale ledger, once its week is over (ledger/publish.py)."""
        await publish_due_ledger(kernel.uow(), ledger)

    return [
        every(settings.ledger_check_interval_s, publish_weekly_ledger),
        webhook_deliveries_job(webhook_deliveries, settings),
    ]
