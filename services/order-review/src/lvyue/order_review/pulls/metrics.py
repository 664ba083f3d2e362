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
    "Orders found cancelled on the platform: cancelled here (stock released, the shipment "
    "stopped), or after_dispatch (reported once: aftersales opens a return-and-refund case)",
    ["platform", "outcome"],
)
UNREADABLE = Counter(
    "lvyue_intake_unreadable_orders_total",
    "Orders read from a platform (pulled or fetched) that could not be mapped to an order",
    ["platform", "shop"],
)
NOTIFICATIONS = Counter(
    "lvyue_intake_notifications_total",
    "Platform notifications received, by what they announce (paid, cancelled, ...) and "
    "whether they were new or a repeat of one received before (or not stored: unreadable, "
    "ignored, or failed, to be delivered again)",
    ["platform", "kind", "outcome"],
)
NOTIFICATION_FETCHES = Counter(
    "lvyue_intake_notification_fetches_total",
    "Orders fetched for notifications: accepted (new), known (received before), cancelled, "
    "failed (tried again later), gone (the platform does not know the order)",
    ["platform", "outcome"],
)
NOTIFICATIONS_PENDING = Gauge(
    "lvyue_intake_notifications_pending",
    "Notifications received whose order is not fetched yet (a fetch failing keeps them)",
    ["platform", "shop"],
)
OLDEST_PENDING = Gauge(
    "lvyue_intake_oldest_notification_pending_seconds",
    "How long the shop's oldest notification has waited for its order's fetch (0: none waits)",
    ["platform", "shop"],
)
ADDRESS_CHANGES = Counter(
    "lvyue_intake_address_changes_total",
    "Buyers' address changes a platform reported for an order lvyue holds: applied (before "
    "review), reviewed_again (abnormal), rerouted (reviewed: the warehouse is told), refused "
    "(reviewed, the new receiver fails review: kept), unchanged, too_late (shipped, cancelled)",
    ["platform", "outcome"],
)
