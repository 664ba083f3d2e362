"""The periodic pull of every configured shop, and the intake-health gauges per shop."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

import httpx
import structlog

from lvyue.common.bootstrap import BackgroundJob, Kernel
from lvyue.common.jobs import every
from lvyue.order_review import repository
from lvyue.order_review.pulls import metrics
from lvyue.order_review.pulls.calls import PullError
from lvyue.order_review.pulls.reconcile import PullTarget, pull_shop
from lvyue.order_review.review import ReviewContext
from lvyue.order_review.settings import OrderReviewSettings

log = structlog.get_logger(__name__)
TOKEN_WARNING = timedelta(days=7)  # an expiring token is logged this long before it stops


def order_pulls_job(settings: OrderReviewSettings, review: ReviewContext) -> BackgroundJob:
    targets = PullTarget.all(settings)

    async def pull_orders(kernel: Kernel) -> None:
        """Each shop in turn; one shop's failure is recorded and the next one is pulled."""
        async with httpx.AsyncClient(timeout=settings.order_pull_timeout_s) as client:
            for target in targets:
                # A failure is recorded by pull_shop: its watermark stays, the gauges say so.
                with contextlib.suppress(PullError):
                    await pull_shop(kernel, client, target, settings, review)
        await refresh_health(kernel, targets)

    return every(settings.order_pull_interval_s, pull_orders, name="order_pulls")


async def refresh_health(kernel: Kernel, targets: list[PullTarget]) -> None:
    async with kernel.uow() as uow:
        now = uow.clock.now()
        states = {
            (t.platform, t.shop_id): await repository.pull_state(uow.session, t.platform, t.shop_id)
            for t in targets
        }
        notified = {
            platform: await repository.last_notifications(uow.session, platform)
            for platform in {t.platform for t in targets}
        }
        for t in targets:  # a platform's notifications stored apart from orders (抖店's)
            stored = await repository.last_notification(uow.session, t.platform, t.shop_id)
            webhook = notified[t.platform].get(t.shop_id)
            if stored is not None and (webhook is None or stored > webhook):
                notified[t.platform][t.shop_id] = stored
        pending = await repository.pending_notifications(uow.session)
    for target in targets:
        labels = (target.platform, target.shop_id)
        state = states[labels]
        if state is not None:
            metrics.PULL_LAG.labels(*labels).set((now - state.watermark).total_seconds())
            if state.last_success_at is not None:
                metrics.LAST_PULL.labels(*labels).set(state.last_success_at.timestamp())
            failing = state.failing_since
            metrics.PULL_FAILING.labels(*labels).set(
                (now - failing).total_seconds() if failing else 0.0
            )
            metrics.MISSED_SHARE.labels(*labels).set(
                state.reconciled / state.pulled if state.pulled else 0.0
            )
        if (at := notified[target.platform].get(target.shop_id)) is not None:
            metrics.LAST_NOTIFICATION.labels(*labels).set(at.timestamp())
        count, oldest = pending.get(labels, (0, now))
        metrics.NOTIFICATIONS_PENDING.labels(*labels).set(count)
        metrics.OLDEST_PENDING.labels(*labels).set(max(0.0, (now - oldest).total_seconds()))
        _warn_expiring_token(target, now)


def _warn_expiring_token(target: PullTarget, now: datetime) -> None:
    expires = target.shop.token_expires_at
    if expires is not None and expires - now < TOKEN_WARNING:
        log.warning(
            "platform_token_expiring", platform=target.platform, shop=target.shop_id,
            expires_at=expires.isoformat(), expired=expires <= now,
        )  # fmt: skip
