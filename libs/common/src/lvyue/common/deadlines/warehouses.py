"""Due times per warehouse: its own cut-off, timezone and working calendar (pure, no I/O).

A warehouse listed in `LVYUE_WAREHOUSES` gets `cutoff:HH:MM` in its own timezone and, with a
`country` other than CN, that country's (and `subdivision`'s) public holidays instead of
China's statutory calendar (and of `LVYUE_CN_HOLIDAYS` / `LVYUE_CN_WORKING_DAYS`); the
company's `LVYUE_HOLIDAYS` / `LVYUE_EXTRA_WORKING_DAYS` apply on top, and its own `days_off`
and `working_days` on top of those (where they disagree, the warehouse's win). A field left
unset falls back to the `dispatch_1600` policy of the SLA catalogue (with any
`LVYUE_SLA_POLICIES` override), to `LVYUE_TIMEZONE` and to the service-wide calendar.

Order-review promises the dispatch time with the same policies fulfilment tracks it by.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lvyue.common.deadlines.calendar import OverriddenCalendar, WorkingCalendar, watch_horizon
from lvyue.common.deadlines.policy import DuePolicy, policy_from_config
from lvyue.common.deadlines.sla import working_calendar

if TYPE_CHECKING:
    from lvyue.common.settings import KernelSettings

OUTBOUND_SLA = "outbound_24h"  # outbound within 24 h of being ready to ship
DISPATCH_SLA = "dispatch_1600"  # dispatched by the warehouse's daily cut-off


class WarehouseConfig(BaseModel):
    """One warehouse's cut-off and calendar; unset fields fall back to the business defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cutoff: str = Field(default="16:00", pattern=r"^\d{2}:\d{2}$", description="Local HH:MM.")
    timezone: str | None = Field(default=None, description="IANA name; default LVYUE_TIMEZONE.")
    country: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{2}$",
        description="ISO 3166-1 alpha-2: public holidays of this country (`holidays` package);"
        " unset or CN: China's statutory calendar (LVYUE_WORKING_CALENDAR).",
    )
    subdivision: str | None = Field(
        default=None, max_length=10, description="The country's region, e.g. BE for Berlin."
    )
    days_off: frozenset[date] = Field(
        default=frozenset(), description="This warehouse's own closures (stock-taking, ...)."
    )
    working_days: frozenset[date] = Field(
        default=frozenset(), description="Days this warehouse works although the calendar rests."
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown timezone {value!r} (use an IANA name)") from None
        return value

    @model_validator(mode="after")
    def _known_calendar(self) -> Self:
        if self.subdivision is not None and self.country is None:
            raise ValueError("subdivision needs a country")
        if self.country is not None and self.country != "CN":
            supported = holidays.list_supported_countries()
            if self.country not in supported:
                raise ValueError(f"no holiday calendar for country {self.country!r}")
            if self.subdivision is not None and self.subdivision not in supported[self.country]:
                known = ", ".join(supported[self.country]) or "none"
                raise ValueError(
                    f"unknown subdivision {self.subdivision!r} of {self.country} (known: {known})"
                )
        both = sorted(self.days_off & self.working_days)
        if both:
            raise ValueError(f"days listed both in days_off and in working_days: {both}")
        return self


@dataclass(frozen=True)
class DueTimes:
    dispatch_due_at: datetime  # dispatch_1600: the cut-off of the day (or next working day)
    outbound_due_at: datetime  # outbound_24h


@dataclass(frozen=True)
class WarehouseDue:
    """One warehouse's policies for both shipment SLAs."""

    tz: ZoneInfo
    calendar: WorkingCalendar
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
        warehouses: dict[str, tuple[WarehouseConfig, WorkingCalendar]],
    ) -> None:
        self._specs = specs
        self._default = self._build(tz, calendar, specs[DISPATCH_SLA])
        self._by_warehouse = {
            warehouse_id: self._configured(config, tz, own_calendar)
            for warehouse_id, (config, own_calendar) in warehouses.items()
        }

    @classmethod
    def from_settings(cls, settings: KernelSettings) -> WarehousePolicies:
        def calendar_of(config: WarehouseConfig | None) -> WorkingCalendar:
            calendar = working_calendar(
                settings.working_calendar,
                weekend=settings.weekend_days,
                holidays=settings.holidays,
                extra_working_days=settings.extra_working_days,
                cn_holidays=settings.cn_holidays,
                cn_working_days=settings.cn_working_days,
                country=config.country if config else None,
                subdivision=config.subdivision if config else None,
            )
            if config is not None and (config.days_off or config.working_days):
                # The warehouse's own days win over the company's, which win over the data.
                calendar = OverriddenCalendar(
                    calendar, days_off=config.days_off, working_days=config.working_days
                )
            watch_horizon(calendar)
            return calendar

        return cls(
            specs=dict(settings.sla_catalog().specs),
            tz=ZoneInfo(settings.timezone),
            calendar=calendar_of(None),
            warehouses={
                warehouse_id: (config, calendar_of(config))
                for warehouse_id, config in settings.warehouses.items()
            },
        )

    def _configured(
        self, config: WarehouseConfig, default_tz: ZoneInfo, calendar: WorkingCalendar
    ) -> WarehouseDue:
        tz = ZoneInfo(config.timezone) if config.timezone else default_tz
        # Only a cut-off the operator wrote down overrides the catalogue's dispatch policy.
        spec = f"cutoff:{config.cutoff}" if "cutoff" in config.model_fields_set else None
        return self._build(tz, calendar, spec or self._specs[DISPATCH_SLA])

    def _build(self, tz: ZoneInfo, calendar: WorkingCalendar, dispatch_spec: str) -> WarehouseDue:
        return WarehouseDue(
            tz=tz,
            calendar=calendar,
            dispatch=policy_from_config(dispatch_spec, tz, calendar),
            outbound=policy_from_config(self._specs[OUTBOUND_SLA], tz, calendar),
        )

    def for_warehouse(self, warehouse_id: str) -> WarehouseDue:
        return self._by_warehouse.get(warehouse_id, self._default)

    def due_times(self, warehouse_id: str, ready_at: datetime) -> DueTimes:
        """When a shipment of `warehouse_id` ready at `ready_at` is due under each SLA."""
        return self.for_warehouse(warehouse_id).due_times(ready_at)
