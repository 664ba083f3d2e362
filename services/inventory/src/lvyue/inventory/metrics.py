"""Inventory's Prometheus metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

LOW_STOCK_EVENTS = Counter(
    "lvyue_inventory_low_stock_events_total",
    "SKUs that fell below their safety threshold (one per crossing)",
    ["warehouse"],
)
RESERVATIONS = Counter(
    "lvyue_inventory_reservations_total", "Orders decided by inventory", ["outcome"]
)
REPLACEMENT_RESERVATIONS = Counter(
    "lvyue_inventory_replacement_reservations_total",
    "Exchange replacements held by inventory (short: nothing held, the parcel ships anyway)",
    ["outcome"],
)
SLOW_MOVING_FLAGGED = Counter(
    "lvyue_inventory_slow_moving_flagged_total", "SKUs flagged as slow-moving", ["warehouse"]
)
LOW_STOCK_SKUS = Gauge(
    "lvyue_inventory_low_stock_skus", "SKUs currently below their safety threshold"
)
