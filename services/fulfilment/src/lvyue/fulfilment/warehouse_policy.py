"""Due times per warehouse: its own cut-off and timezone, else the SLA defaults (pure, no I/O).

A warehouse listed in `LVYUE_WAREHOUSES` gets `cutoff:HH:MM` in its own timezone; a field
left unset falls back to the `dispatch_1600` policy of the SLA catalogue (with any
`LVYUE_SLA_POLICIES` override) and to `LVYUE_TIMEZONE`. Working days come from the kernel's
calendar settings, shared by every warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from lvyue.common.deadlines.calendar import WorkingCalendar
from lvyue.common.deadlines.policy import DuePolicy, policy_from_config
from lvyue.common.deadlines.sla import working_calendar
from lvyue.fulfilment.domain import DISPATCH_SLA, OUTBOUND_SLA
from lvyue.fulfilment.settings import FulfilmentSettings, WarehouseConfig


@dataclass(frozen=True)
class DueTimes:
    dispatch_due_at: datetime  # dispatch_1600: the cut-off of the day (or next working day)
    outbound_due_at: datetime  # outbound_24h


@dataclass(frozen=True)
class WarehouseDue:
    """One warehouse's policies for both shipment SLAs."""

    tz: ZoneInfo
    dispatch: DuePolicy
    outbound: DuePolicy

    def due_times(self, ready_at: datetime) -> DueTimes:
        return DueTimes(self.dispatch.due_at(ready_at), self.outbound.due_at(ready_at))


class WarehousePolicies:
    """Built once per process; every configured warehouse is checked at start-up."""

    def __init__(
        self,
        *,
        specs: dict[str, str],
        tz: ZoneInfo,
        calendar: WorkingCalendar,
        warehouses: dict[str, WarehouseConfig],
    ) -> None:
        self._specs = specs
        self._calendar = calendar
        self._default = self._build(tz, specs[DISPATCH_SLA])
        self._by_warehouse = {
            warehouse_id: self._configured(config, tz)
            for warehouse_id, config in warehouses.items()
        }

    @classmethod
    def from_settings(cls, settings: FulfilmentSettings) -> WarehousePolicies:
        calendar = working_calendar(
            settings.working_calendar,
            weekend=settings.weekend_days,
            holidays=settings.holidays,
            extra_working_days=settings.extra_working_days,
        )
        return cls(
            specs=dict(settings.sla_catalog().specs),
            tz=ZoneInfo(settings.timezone),
            calendar=calendar,
            warehouses=settings.warehouses,
        )

    def _configured(self, config: WarehouseConfig, default_tz: ZoneInfo) -> WarehouseDue:
        tz = ZoneInfo(config.timezone) if config.timezone else default_tz
        # Only a cut-off the operator wrote down overrides the catalogue's dispatch policy.
        spec = f"cutoff:{config.cutoff}" if "cutoff" in config.model_fields_set else None
        return self._build(tz, spec or self._specs[DISPATCH_SLA])

    def _build(self, tz: ZoneInfo, dispatch_spec: str) -> WarehouseDue:
        return WarehouseDue(
            tz=tz,
            dispatch=policy_from_config(dispatch_spec, tz, self._calendar),
            outbound=policy_from_config(self._specs[OUTBOUND_SLA], tz, self._calendar),
        )

    def for_warehouse(self, warehouse_id: str) -> WarehouseDue:
        return self._by_warehouse.get(warehouse_id, self._default)

    def due_times(self, warehouse_id: str, ready_at: datetime) -> DueTimes:
        """When a shipment of `warehouse_id` ready at `ready_at` is due under each SLA."""
        return self.for_warehouse(warehouse_id).due_times(ready_at)
