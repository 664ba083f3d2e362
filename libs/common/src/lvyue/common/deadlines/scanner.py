"""The deadline scanner: marks overdue deadlines breached exactly once, with any number of replicas.

Rows are claimed with FOR UPDATE SKIP LOCKED and flipped from open to breached in the same
transaction that writes the `sla.breached` event to the outbox, so a breach is recorded and
announced once even when scanners run side by side or restart mid-scan.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

import structlog

from lvyue.common.deadlines import forecast as forecasts
from lvyue.common.deadlines import metrics, store
from lvyue.common.deadlines.store import Deadline
from lvyue.common.events.catalog import SLA_BREACHED, SlaBreached
from lvyue.common.jobs import every
from lvyue.common.uow import UnitOfWorkFactory

log = structlog.get_logger(__name__)


class DeadlineScanner:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        *,
        service: str,
        batch_size: int = 500,
        interval_s: float = 1.0,
        gauge_interval_s: float = 5.0,
        at_risk_fraction: float = 0.8,
        forecast_interval_s: float = 15.0,
        forecast_window_s: float = 3600.0,
        compliance_window_s: float = 86400.0,
    ) -> None:
        self._uow_factory = uow_factory
        self._service = service
        self._batch_size = batch_size
        self._interval_s = interval_s
        self._gauge_interval_s = gauge_interval_s
        self._at_risk_fraction = at_risk_fraction
        self._known_slas: set[str] = set()
        self._forecast_interval_s = forecast_interval_s
        self._forecast_window = timedelta(seconds=forecast_window_s)
        self._compliance_window = timedelta(seconds=compliance_window_s)

    async def scan_once(self) -> list[Deadline]:
        """Breaches one batch of overdue deadlines; returns those this scanner breached."""
        async with self._uow_factory() as uow:
            now = uow.clock.now()
            breached = await store.breach_overdue(uow.session, now=now, limit=self._batch_size)
            for deadline in breached:
                await uow.emit(
                    SLA_BREACHED,
                    SlaBreached(
                        deadline_id=deadline.id,
                        sla=deadline.sla,
                        subject=deadline.subject,
                        service=self._service,
                        opened_at=deadline.opened_at,
                        due_at=deadline.due_at,
                        breached_at=now,
                    ),
                    subject=deadline.subject,
                )
            await uow.commit()
        for deadline in breached:
            metrics.record_breached(deadline.sla)
            log.warning(
                "sla_breached", sla=deadline.sla, subject=deadline.subject, due_at=deadline.due_at
            )
        return breached

    async def scan_until_clear(self) -> int:
        total = 0
        while batch := await self.scan_once():
            total += len(batch)
        return total

    async def refresh_gauges(self) -> None:
        """Open / at-risk / overdue per SLA, from the database: right with several replicas."""
        async with self._uow_factory() as uow:
            await store.serial_reads(uow.session)
            counts = await store.open_counts(
                uow.session, now=uow.clock.now(), at_risk_fraction=self._at_risk_fraction
            )
        for sla in self._known_slas | set(counts):
            row = counts.get(sla, store.OpenCounts(0, 0, 0))
            metrics.OPEN.labels(sla).set(row.open)
            metrics.AT_RISK.labels(sla).set(row.at_risk)
            metrics.OVERDUE.labels(sla).set(row.overdue)
        self._known_slas |= set(counts)

    async def refresh_outcomes(self) -> dict[str, store.Outcomes]:
        """Met and breached per SLA over the compliance window, from the database."""
        async with self._uow_factory() as uow:
            await store.serial_reads(uow.session)
            since = uow.clock.now() - self._compliance_window
            outcomes = await store.outcomes_since(uow.session, since=since)
        metrics.export_outcomes(outcomes, window=self._compliance_window, slas=self._known_slas)
        self._known_slas |= set(outcomes)
        return outcomes

    async def refresh_forecast(self) -> dict[str, store.PredictedBreaches]:
        """The breach forecast's gauges (predicted breaches per SLA), from the database."""
        async with self._uow_factory() as uow:
            await store.serial_reads(uow.session)
            now = uow.clock.now()
            result = await store.predicted_breaches(
                uow.session, now=now, window=self._forecast_window
            )
        forecasts.export(result, now=now, slas=self._known_slas)
        return result

    def jobs(self) -> list[Callable[[DeadlineScanner, asyncio.Event], Coroutine[Any, Any, None]]]:
        """Scanning (breach what is due) every interval; the open / at-risk gauges every gauge
        interval, as a job of their own: counting every open deadline takes long at volume
        (0.4 s at a million) and must not hold up a breach; the forecast and compliance-window
        gauges every forecast interval."""
        return [
            every(self._interval_s, DeadlineScanner.scan_step, name="deadline_scan"),
            every(self._gauge_interval_s, DeadlineScanner.gauge_step, name="deadline_gauges"),
            every(
                self._forecast_interval_s, DeadlineScanner.forecast_step, name="deadline_forecast"
            ),
        ]

    async def scan_step(self) -> None:
        await self.scan_until_clear()

    async def gauge_step(self) -> None:
        await self.refresh_gauges()

    async def forecast_step(self) -> None:
        await self.refresh_forecast()
        await self.refresh_outcomes()

    async def run(self, stop: asyncio.Event) -> None:
        """Every job until `stop` is set."""
        await asyncio.gather(*(job(self, stop) for job in self.jobs()))
