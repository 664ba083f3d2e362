"""Logistics-exception metrics: flags raised per kind, open exceptions (from the database)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from lvyue.fulfilment.logistics.rules import ExceptionKind

EXCEPTIONS = Counter(
    "lvyue_logistics_exceptions_total", "Parcels flagged delayed or lost (once each time)", ["kind"]
)
OPEN = Gauge(
    "lvyue_logistics_open_exceptions",
    "Parcels currently flagged delayed or lost (read from the database)",
    ["kind"],
)


def set_open(counts: dict[ExceptionKind, int]) -> None:
    for kind in ExceptionKind:
        OPEN.labels(kind.value).set(counts.get(kind, 0))
