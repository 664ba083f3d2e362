"""The SLAs of the operations manual and their due-time policies, built from settings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from types import MappingProxyType
from zoneinfo import ZoneInfo

from lvyue.common.deadlines.calendar import (
    ChineseCalendar,
    ConfiguredCalendar,
    CountryCalendar,
    OverriddenCalendar,
    WorkingCalendar,
)
from lvyue.common.deadlines.policy import DuePolicy, policy_from_config

# ARCHITECTURE.md "The rules"; every one can be overridden by configuration.
DEFAULT_SLA_POLICIES: Mapping[str, str] = MappingProxyType(
    {
        "review_by_0900": "next_day_at:09:00",
        "abnormal_contact_2h": "duration:2h",
        "outbound_24h": "duration:24h",
        "dispatch_1600": "cutoff:16:00",
        "tracking_sync": "duration:5m",
        "aftersale_response_24h": "duration:24h",
        "refund_48h": "duration:48h",
    }
)


def working_calendar(
    kind: str,
    *,
    weekend: frozenset[int] = frozenset({5, 6}),
    holidays: frozenset[date] = frozenset(),
    extra_working_days: frozenset[date] = frozenset(),
    cn_holidays: frozenset[date] = frozenset(),
    cn_working_days: frozenset[date] = frozenset(),
    country: str | None = None,
    subdivision: str | None = None,
) -> WorkingCalendar:
    """A `country` other than CN: its public holidays (``holidays`` package) and the weekend.
    Otherwise `kind` "chinese": statutory holidays and 调休 days (chinese-calendar's, and the
    `cn_` ones configured from the State Council's notice for years it lacks), falling back to
    the configured calendar for years neither covers; "configured": the configured one only.
    The configured days off and extra working days (the company's) apply on top, in every
    year and every country, whatever the data says."""
    configured = ConfiguredCalendar(
        weekend=weekend, holidays=holidays, extra_working_days=extra_working_days
    )
    base: WorkingCalendar
    if country is not None and country != "CN":
        base = CountryCalendar(country, subdivision, weekend=weekend)
    elif kind == "chinese" or country == "CN":
        base = ChineseCalendar(
            fallback=configured, holidays=cn_holidays, working_days=cn_working_days
        )
    elif kind == "configured":
        return configured
    else:
        raise ValueError(f"unknown working calendar {kind!r}: use 'chinese' or 'configured'")
    return OverriddenCalendar(base, days_off=holidays, working_days=extra_working_days)


class SlaPolicies:
    """Due times per SLA name: the defaults with any configured overrides on top.

    Cut-offs are local times: a shop in another timezone gets the same policies built for its
    own zone (built once, on first use).
    """

    def __init__(
        self, overrides: Mapping[str, str], *, tz: ZoneInfo, calendar: WorkingCalendar
    ) -> None:
        self.specs = {**DEFAULT_SLA_POLICIES, **overrides}
        self.tz = tz
        self._calendar = calendar
        self._by_zone: dict[str, dict[str, DuePolicy]] = {}
        self._policies = self._for_zone(tz)

    def _for_zone(self, tz: ZoneInfo) -> dict[str, DuePolicy]:
        policies = self._by_zone.get(tz.key)
        if policies is None:
            policies = {
                sla: policy_from_config(spec, tz, self._calendar)
                for sla, spec in self.specs.items()
            }
            self._by_zone[tz.key] = policies
        return policies

    def due_at(self, sla: str, start: datetime, *, tz: ZoneInfo | None = None) -> datetime:
        """When `sla` started at `start` is due, in `tz` (default: the business timezone)."""
        policies = self._policies if tz is None else self._for_zone(tz)
        try:
            policy = policies[sla]
        except KeyError:
            raise ValueError(f"no due-time policy for SLA {sla!r}") from None
        return policy.due_at(start)
