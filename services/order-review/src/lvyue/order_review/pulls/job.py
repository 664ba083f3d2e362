"""The periodic pull of every configured shop, and the intake-health gauges per shop."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

import httpx
import structlog

from lvyue.common.bootstrap import BackgroundJob, Kernel
from lvyue.common.jobs import every_holding
from lvyue.common.uow import UnitOfWork
from lvyue.order_review import repository
from lvyue.order_review.pulls import metrics
from lvyue.order_review.pulls.calls import PullError, platform_client
from lvyue.order_review.pulls.reconcile import PullTarget, pull_shop
from lvyue.order_review.repository import PullState
from lvyue.order_review.review import ReviewContext
from lvyue.order_review.settings import OrderReviewSettings

log = structlog.get_logger(__name__)
TOKEN_WARNING = timedelta(days=7)  # an expiring token is logged this long before it stops
READ_OVERLAP = timedelta(minutes=5)  # an intake transaction open longer is not expected


class ShopsFailed(Exception):
    """Shops whose pull failed otherwise than by the platform's refusal (each recorded, the
    others pulled): the job's run fails once every shop was tried, and is counted so."""


def order_pulls_job(settings: OrderReviewSettings, review: ReviewContext) -> BackgroundJob:
    targets = PullTarget.all(settings)

    async def pull_orders(kernel: Kernel, client: httpx.AsyncClient) -> None:
        await pull_all(kernel, client, targets, settings, review)

    return every_holding(
        partial(platform_client, settings),
        settings.order_pull_interval_s,
        pull_orders,
        name="order_pulls",
    )


async def pull_all(
    kernel: Kernel,
    client: httpx.AsyncClient,
    targets: list[PullTarget],
    settings: OrderReviewSettings,
    review: ReviewContext,
) -> None:
    """Each shop in turn; one shop's failure is recorded and the next one is pulled. A failure
    pull_shop could not put down to the platform (or could not record) fails the run, after
    every shop was tried and the gauges refreshed."""
    unexpected: list[str] = []
    for target in targets:
        try:
            await pull_shop(kernel, client, target, settings, review)
        except PullError:
            continue  # recorded by pull_shop: its watermark stays, the gauges say so
        except Exception as exc:  # recorded too, unless recording failed: the run says so
            unexpected.append(f"{target.platform}/{target.shop_id}: {type(exc).__name__}: {exc}")
    await refresh_health(kernel, targets)
    if unexpected:
        raise ShopsFailed("; ".join(unexpected)[:500])


async def refresh_health(kernel: Kernel, targets: list[PullTarget]) -> None:
    async with kernel.uow() as uow:
        now = uow.clock.now()
        states = {
            (t.platform, t.shop_id): await repository.pull_state(uow.session, t.platform, t.shop_id)
            for t in targets
        }
        notified = await _last_notifications(uow, targets, states, now)
        pending = await repository.pending_notifications(uow.session)
        await uow.commit()
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
        if (at := notified.get(labels)) is not None:
            metrics.LAST_NOTIFICATION.labels(*labels).set(at.timestamp())
        count, oldest = pending.get(labels, (0, now))
        metrics.NOTIFICATIONS_PENDING.labels(*labels).set(count)
        metrics.OLDEST_PENDING.labels(*labels).set(max(0.0, (now - oldest).total_seconds()))
        _warn_expiring_token(target, now)


async def _last_notifications(
    uow: UnitOfWork,
    targets: list[PullTarget],
    states: dict[tuple[str, str], PullState | None],
    now: datetime,
) -> dict[tuple[str, str], datetime]:
    """Per shop, when its latest notification arrived: a webhook, or a notification stored
    apart from orders (抖店's). Kept in order_pulls, as the rows that told it are pruned after
    their retention; each round reads the webhooks since the previous one, less an overlap for
    intake transactions still open then."""
    latest: dict[tuple[str, str], datetime] = {}
    for platform in {t.platform for t in targets}:
        shops = [t.shop_id for t in targets if t.platform == platform]
        read_to = [
            s.notifications_read_to if (s := states[(platform, shop)]) else None for shop in shops
        ]
        since = None if None in read_to else min(r for r in read_to if r) - READ_OVERLAP
        webhooks = await repository.latest_webhooks(uow.session, platform, since=since)
        for shop in shops:
            state = states[(platform, shop)]
            seen = [
                webhooks.get(shop),
                await repository.last_notification(uow.session, platform, shop),
                state.last_notification_at if state else None,
            ]
            if known := [at for at in seen if at is not None]:
                latest[(platform, shop)] = max(known)
            if state is not None:  # a shop's row is made by its first pull
                await repository.record_notifications_read(
                    uow.session, platform, shop, latest=latest.get((platform, shop)), at=now
                )
    return latest


def _warn_expiring_token(target: PullTarget, now: datetime) -> None:
    expires = target.shop.token_expires_at
    if expires is not None and expires - now < TOKEN_WARNING:
        log.warning(
            "platform_token_expiring", platform=target.platform, shop=target.shop_id,
            expires_at=expires.isoformat(), expired=expires <= now,
        )  # fmt: skip
