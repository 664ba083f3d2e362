"""What fulfilment's handlers, commands and routes share, built once per process in
main.build_app."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from lvyue.common.deadlines.warehouses import WarehousePolicies
from lvyue.common.events.catalog import Priority
from lvyue.fulfilment.domain import LateCosts
from lvyue.fulfilment.hooks import DispatchHook


@dataclass(frozen=True)
class FulfilmentContext:
    policies: WarehousePolicies
    dispatch_hooks: tuple[DispatchHook, ...] = ()
    replacement_priority: Priority = Priority.URGENT
    late_costs: LateCosts = field(default_factory=dict)
    pick_at_risk: timedelta = timedelta(hours=2)
    dispatch_clock_skew: timedelta = timedelta(minutes=5)  # LVYUE_DISPATCH_CLOCK_SKEW_S
