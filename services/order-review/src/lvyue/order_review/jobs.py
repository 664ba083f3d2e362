"""order-review's periodic jobs: the stuck-orders gauge (accepted orders with no state change for
too long; review should take seconds), the pulls of the shops' orders (pulls/), and the fetch
of the orders platforms' notifications name (notifications/)."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import Gauge

from lvyue.common.bootstrap import BackgroundJob, Kernel
from lvyue.common.jobs import every
from lvyue.common.retention import pruning_job, webhook_deliveries_job
from lvyue.order_review import repository
from lvyue.order_review.domain.status import OrderStatus
from lvyue.order_review.notifications.fetch import NOTIFIED_PLATFORMS, notifications_job
from lvyue.order_review.notifications.message_queue import message_queues_job
from lvyue.order_review.notifications.stream import message_streams_job
from lvyue.order_review.pulls.job import order_pulls_job
from lvyue.order_review.review import ReviewContext
from lvyue.order_review.settings import OrderReviewSettings
from lvyue.order_review.tables import webhook_deliveries

STALLED = Gauge(
    "lvyue_orders_stalled",
    "Orders in a waiting state with no change for longer than LVYUE_STALLED_AFTER_S",
    ["status"],
)
# Only states the system itself must move on; abnormal orders wait for people and have
# their own 2 h deadline, reviewed ones wait for the warehouse and its dispatch deadlines.
WAITING_STATES = (OrderStatus.PENDING_REVIEW,)


def stalled_orders_job(stalled_after_s: float, interval_s: float) -> BackgroundJob:
    async def count_stalled_orders(kernel: Kernel) -> None:
        async with kernel.uow() as uow:
            cutoff = uow.clock.now() - timedelta(seconds=stalled_after_s)
            counts = await repository.unchanged_since(uow.session, WAITING_STATES, cutoff)
        for status in WAITING_STATES:
            STALLED.labels(status).set(counts.get(status, 0))

    return every(interval_s, count_stalled_orders)


def jobs(settings: OrderReviewSettings, review: ReviewContext) -> list[BackgroundJob]:
    found = [
        stalled_orders_job(settings.stalled_after_s, settings.stalled_check_interval_s),
        # What intake keeps of each push, past any platform's retries.
        webhook_deliveries_job(webhook_deliveries, settings),
        pruning_job(
            "order_notifications",
            repository.prune_done_notifications,
            keep=timedelta(days=settings.webhook_delivery_retention_days),
            settings=settings,
        ),
    ]
    if settings.order_pull_shops:  # reconciliation: what the shops' notifications missed
        found.append(order_pulls_job(settings, review))
    platforms = {key.partition("/")[0] for key in settings.order_pull_shops}
    if platforms & NOTIFIED_PLATFORMS:
        found.append(notifications_job(settings, review))  # notified orders fetched with their API
    if "pinduoduo" in platforms:
        found.append(message_streams_job(settings))  # its notifications come by WebSocket
    if "taobao" in platforms:
        found.append(message_queues_job(settings))  # its notifications are read from a queue
    return found
