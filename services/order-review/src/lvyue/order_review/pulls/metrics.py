"""What the SRE sees of each shop's intake: notifications, pulls, and what pulls found."""

from prometheus_client import Counter, Gauge

RECONCILED = Counter(
    "lvyue_intake_reconciled_total",
    "Orders a pull found that no notification had delivered (accepted through the pull)",
    ["platform", "source"],
)
SHOP_RECONCILED = Counter(
    "lvyue_intake_shop_reconciled_total",
    "Orders a pull found that no notification had delivered, per shop",
    ["platform", "shop"],
)
PULLED = Counter(
    "lvyue_intake_pulled_total", "Orders read by pulls, known or not", ["platform", "shop"]
)
PULL_FAILURES = Counter(
    "lvyue_intake_pull_failures_total", "Pulls that stopped on an error", ["platform", "shop"]
)
LAST_PULL = Gauge(
    "lvyue_intake_last_pull_timestamp_seconds",
    "When a pull of the shop last reached its end (unix seconds)",
    ["platform", "shop"],
)
PULL_LAG = Gauge(
    "lvyue_intake_pull_lag_seconds",
    "How far behind now the shop's pulled watermark is",
    ["platform", "shop"],
)
PULL_FAILING = Gauge(
    "lvyue_intake_pull_failing_seconds",
    "How long the shop's pulls have failed without a success (0 when the last one succeeded)",
    ["platform", "shop"],
)
LAST_NOTIFICATION = Gauge(
    "lvyue_intake_last_notification_timestamp_seconds",
    "When the shop's latest notification (webhook) arrived (unix seconds)",
    ["platform", "shop"],
)
MISSED_SHARE = Gauge(
    "lvyue_intake_missed_by_push_ratio",
    "Of the orders pulls have read, the share no notification had delivered",
    ["platform", "shop"],
)
CANCELLATIONS = Counter(
    "lvyue_intake_platform_cancellations_total",
    "Orders a pull found cancelled on the platform: cancelled here (stock released, the "
    "shipment stopped), already cancelled, or already dispatched (an after-sale matter)",
    ["platform", "outcome"],
)
