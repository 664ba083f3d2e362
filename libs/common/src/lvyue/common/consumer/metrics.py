"""The consumer runner's Prometheus metrics (names and labels are the alerts' contract)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HANDLED = Counter(
    "lvyue_consumer_messages_total", "Messages handled", ["consumer", "topic", "outcome"]
)
DEAD_LETTERED = Counter(
    "lvyue_consumer_dead_letters_total",
    "Messages parked on a dead-letter topic",
    ["consumer", "topic"],
)
DEAD_LETTERS_WAITING = Gauge(
    "lvyue_consumer_dead_letters_waiting",
    "Parked messages not yet republished (POST /dead-letters/{id}/redrive), from the database: "
    "each replica of a service reads the same rows",
    ["consumer"],
)
DEAD_LETTER_FAILURES = Counter(
    "lvyue_consumer_dead_letter_failures_total",
    "Messages that could not even be dead-lettered (database or broker down): the partition "
    "rewinds and waits",
    ["consumer", "topic"],
)
HANDLE_SECONDS = Histogram(
    "lvyue_consumer_handle_seconds", "Time to handle one message", ["consumer", "topic"]
)
BATCH_SIZE = Histogram(
    "lvyue_consumer_batch_messages",
    "Messages handled per batch transaction",
    ["consumer"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
)
BATCH_FALLBACKS = Counter(
    "lvyue_consumer_batch_fallbacks_total",
    "Batches rolled back and handled one message at a time",
    ["consumer"],
)
LAG = Gauge(
    "lvyue_consumer_lag_messages", "Messages behind the partition end", ["consumer", "topic"]
)
OFFSET_GAPS = Counter(
    "lvyue_consumer_offset_gaps_total",
    "Offsets a fetch skipped in a partition (the embedded broker with racing writes): read again"
    " from the gap (reread), or taken as a real gap after LVYUE_KAFKA_OFFSET_GAP_WAIT_MS "
    "(accepted)",
    ["consumer", "outcome"],
)
ASSIGNED = Gauge(
    "lvyue_consumer_assigned_partitions",
    "Partitions the group gave this process (0 while it joins: it consumes nothing yet)",
    ["consumer"],
)
