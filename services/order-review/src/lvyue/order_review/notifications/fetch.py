"""The job that takes stored notifications to orders: it claims a batch, fetches each named
order once with the shop's signed API call, and takes it through intake (or cancels it here)
in the transaction that marks its notifications done. A fetch that fails is tried again later,
backing off; the notification stays until it succeeds."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

import httpx
import structlog

from lvyue.common.bootstrap import BackgroundJob, Kernel
from lvyue.common.jobs import every_holding
from lvyue.order_review import repository
from lvyue.order_review.commands.intake import AcceptOrder, stage_orders
from lvyue.order_review.pulls import metrics
from lvyue.order_review.pulls.calls import PullError, platform_client
from lvyue.order_review.pulls.orders import (
    UNREADABLE,
    ShopSource,
    accept_command,
    cancel_here,
    cancellation,
    follow_receiver,
)
from lvyue.order_review.pulls.reconcile import PullTarget
from lvyue.order_review.pulls.source import RawOrder
from lvyue.order_review.repository import PendingNotification
from lvyue.order_review.review import ReviewContext
from lvyue.order_review.settings import OrderReviewSettings

log = structlog.get_logger(__name__)
LEASE = timedelta(minutes=2)  # a claim this old is another process's that died: taken again
MAX_BACKOFF_S = 300.0
# whose notifications name an order to fetch
NOTIFIED_PLATFORMS = frozenset({"douyin", "pinduoduo", "taobao", "shopify"})
NOTIFIED_PREFIX = "notified:"  # the delivery id of an order a notification's fetch brought


@dataclass
class Batch:
    """What one claim turned into: orders to accept, notifications done or to try again."""

    commands: list[AcceptOrder] = field(default_factory=list)
    done: list[int] = field(default_factory=list)
    failed: dict[str, list[PendingNotification]] = field(default_factory=dict)


def notifications_job(settings: OrderReviewSettings, ctx: ReviewContext) -> BackgroundJob:
    shops = {(t.platform, t.shop_id): t for t in PullTarget.all(settings)}
    taking = Taking(shops, settings, ctx)

    async def fetch_notified_orders(kernel: Kernel, client: httpx.AsyncClient) -> bool:
        """One batch; True when it was full (drained at once: more may be waiting)."""
        return await take_notifications(kernel, client, taking)

    return every_holding(
        partial(platform_client, settings),
        settings.notification_fetch_interval_s,
        fetch_notified_orders,
        drain=True,
    )


@dataclass(frozen=True)
class Taking:
    """What taking notifications needs beyond the kernel: the shops, settings, review."""

    shops: Mapping[tuple[str, str], ShopSource]
    settings: OrderReviewSettings
    review: ReviewContext


async def take_notifications(kernel: Kernel, client: httpx.AsyncClient, taking: Taking) -> bool:
    """One batch; True if it was full (more may be due)."""
    limit = taking.settings.notification_fetch_batch
    async with kernel.uow() as uow:
        claimed = await repository.claim_notifications(
            uow.session, now=uow.clock.now(), limit=limit, lease=LEASE
        )
        await uow.commit()
    if not claimed:
        return False
    batch = Batch()
    by_order: dict[tuple[str, str, str], list[PendingNotification]] = defaultdict(list)
    for item in claimed:
        by_order[(item.platform, item.shop_id, item.platform_order_id)].append(item)
    for (platform, shop_id, order_id), items in by_order.items():
        shop = taking.shops.get((platform, shop_id))
        try:
            await _take_order(kernel, client, shop, taking, order_id, items, batch)
        except Exception as exc:  # one order's failure must not hold up the batch: retried
            log.warning(
                "notified_order_failed", platform=platform, shop=shop_id, order=order_id,
                exc_info=exc,
            )  # fmt: skip
            batch.failed.setdefault(f"{type(exc).__name__}: {exc}"[:300], []).extend(items)
    await _finish(kernel, batch)
    return len(claimed) == limit


async def _take_order(
    kernel: Kernel,
    client: httpx.AsyncClient,
    shop: ShopSource | None,
    taking: Taking,
    order_id: str,
    items: Sequence[PendingNotification],
    batch: Batch,
) -> None:
    """The order fetched and taken (or cancelled, or passed by as unreadable or gone); its
    notifications are done only once nothing failed on the way."""
    platform = items[0].platform
    if shop is None:
        batch.failed.setdefault(
            f"no API credentials for {platform} shop {items[0].shop_id}", []
        ).extend(items)
        return
    try:
        raw = await shop.source.detail(client, shop.shop, order_id)
    except PullError as exc:
        batch.failed.setdefault(str(exc)[:300], []).extend(items)
        return
    if raw is None:
        metrics.NOTIFICATION_FETCHES.labels(platform, "gone").inc()
        log.warning("notified_order_unknown", platform=platform, shop=shop.shop_id, order=order_id)
    else:
        await _take_found(kernel, shop, taking, order_id, raw, items, batch)
    batch.done.extend(item.id for item in items)


async def _take_found(
    kernel: Kernel,
    shop: ShopSource,
    taking: Taking,
    order_id: str,
    raw: RawOrder,
    items: Sequence[PendingNotification],
    batch: Batch,
) -> None:
    """The fetched order cancelled here, its new receiver followed, or its intake command
    added to the batch; an unreadable one is logged, counted and passed by (its pull finds
    it no better)."""
    reason = cancellation(shop, raw)
    if reason is UNREADABLE:
        return
    if reason is None and any(item.kind == "refunded" for item in items):
        reason = "the whole order was refunded before shipment"  # the message says so
    if reason is not None:
        await cancel_here(kernel, shop, order_id, reason)
        metrics.NOTIFICATION_FETCHES.labels(items[0].platform, "cancelled").inc()
        return
    delivery = f"{NOTIFIED_PREFIX}{order_id}"
    cmd = accept_command(kernel, taking.settings, shop, raw, delivery_id=delivery)
    if cmd is None:
        return
    if any(item.kind == "address_changed" for item in items):
        held = await _held(kernel, shop, order_id)
        if held is not None:  # the order's new receiver; an order not held is taken as new
            await follow_receiver(
                kernel, shop, taking.review, held, cmd.order.receiver, found_by="notification"
            )
            return
    batch.commands.append(cmd)


async def _held(kernel: Kernel, shop: ShopSource, platform_order_id: str) -> uuid.UUID | None:
    async with kernel.uow() as uow:
        return await repository.order_id_for(
            uow.session, platform=shop.platform, shop_id=shop.shop_id,
            platform_order_id=platform_order_id,
        )  # fmt: skip


async def _finish(kernel: Kernel, batch: Batch) -> None:
    """The batch's orders and its notifications' outcome, in one transaction."""
    async with kernel.uow() as uow:
        now = uow.clock.now()
        accepted = await stage_orders(uow, batch.commands) if batch.commands else []
        await repository.finish_notifications(uow.session, batch.done, at=now)
        for error, items in batch.failed.items():
            await repository.retry_notifications(
                uow.session, [i.id for i in items], error=error, due_at=_retry_at(now, items)
            )
        await uow.commit()
    for cmd, outcome in zip(batch.commands, accepted, strict=True):
        label = "accepted" if outcome.created else "known"
        metrics.NOTIFICATION_FETCHES.labels(cmd.platform, label).inc()
    for error, items in batch.failed.items():
        metrics.NOTIFICATION_FETCHES.labels(items[0].platform, "failed").inc(len(items))
        log.warning(
            "notified_order_fetch_failed", platform=items[0].platform, count=len(items), error=error
        )


def _retry_at(now: datetime, items: Sequence[PendingNotification]) -> datetime:
    """Backing off: 2 s, 4 s, 8 s ... at most five minutes after the latest attempt."""
    attempts = max(item.attempts for item in items)
    return now + timedelta(seconds=min(2.0**attempts, MAX_BACKOFF_S))
