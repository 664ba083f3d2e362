"""Fulfilment's KPI metrics (no order ids as labels)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

SHIPMENTS_REQUESTED = Counter(
    "lvyue_fulfilment_shipments_requested_total",
    "Shipments requested from warehouses",
    ["warehouse", "priority"],
)
DISPATCHES = Counter(
    "lvyue_fulfilment_dispatches_total",
    "Dispatched shipments; on_time: both outbound_24h and dispatch_1600 were met",
    ["warehouse", "platform", "on_time"],
)
LATE_CANCELLATIONS = Counter(
    "lvyue_fulfilment_late_cancellations_total",
    "order.cancelled for an order already dispatched (left to aftersales)",
    ["warehouse"],
)
RECEIVER_CHANGES = Counter(
    "lvyue_fulfilment_receiver_changes_total",
    "Receivers buyers changed after review: told (the warehouse), remembered (before the "
    "shipment), stale (a later change known), too_late (dispatched), cancelled",
    ["outcome"],
)
PENDING_SHIPMENTS = Gauge(
    "lvyue_fulfilment_pending_shipments",
    "Shipments requested and not dispatched yet (read from the database)",
    ["warehouse"],
)
