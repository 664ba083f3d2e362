"""Tracking-sync metrics: attempts by platform and outcome, jobs by state (from the database)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from lvyue.fulfilment.tracking.records import SyncState

ATTEMPTS = Counter(
    "lvyue_tracking_sync_attempts_total",
    "Calls to a sales platform's shipment API (outcome: synced, retry, permanent)",
    ["platform", "outcome"],
)
GIVEN_UP = Counter(
    "lvyue_tracking_syncs_failed_total",
    "Tracking syncs marked failed (reason: permanent error, or the give-up window passed)",
    ["platform", "reason"],
)
SKIPPED = Counter(
    "lvyue_tracking_syncs_skipped_total",
    "Tracking syncs not sent because the platform has no API configured",
    ["platform"],
)
JOBS = Gauge(
    "lvyue_tracking_syncs", "Tracking-sync jobs by state (read from the database)", ["state"]
)


def set_jobs(counts: dict[SyncState, int]) -> None:
    for state in SyncState:
        JOBS.labels(state.value).set(counts.get(state, 0))
