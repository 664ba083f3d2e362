"""One pull of one shop: its orders updated since the watermark (less the overlap), page by
page, each through intake; the watermark moves with the last page's commit."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from pydantic import ValidationError

from lvyue.common.bootstrap import Kernel
from lvyue.order_review import repository
from lvyue.order_review.commands.intake import AcceptOrder, stage_orders
from lvyue.order_review.commands.operator import CancelOrder, cancel_order
from lvyue.order_review.domain.slas import REVIEW_SLA
from lvyue.order_review.domain.status import OrderStatus
from lvyue.order_review.domain.transitions import TransitionNotAllowed
from lvyue.order_review.platforms import ADAPTERS
from lvyue.order_review.platforms.base import PayloadError
from lvyue.order_review.pulls import metrics
from lvyue.order_review.pulls.shopify import PullError, fetch_page, first_page_url
from lvyue.order_review.repository.pulls import PULL_DELIVERY_PREFIX
from lvyue.order_review.settings import OrderReviewSettings, ShopPull

log = structlog.get_logger(__name__)
SHOP_HEADER = "x-shopify-shop-domain"


@dataclass(frozen=True)
class PullTarget:
    platform: str
    shop_id: str
    shop: ShopPull

    @classmethod
    def all(cls, settings: OrderReviewSettings) -> list[PullTarget]:
        found = []
        for key, shop in sorted(settings.order_pull_shops.items()):
            platform, _, shop_id = key.partition("/")
            found.append(cls(platform, shop_id, shop))
        return found


@dataclass(frozen=True)
class PullWindow:
    start: datetime  # the watermark this pull starts from
    since: datetime  # start less the overlap: what the platform is asked from
    until: datetime  # now: the watermark once the last page is committed


@dataclass
class PullTally:
    pulled: int = 0
    reconciled: int = 0
    invalid: int = 0


async def pull_shop(
    kernel: Kernel, client: httpx.AsyncClient, target: PullTarget, settings: OrderReviewSettings
) -> PullTally:
    """Pulls the shop once; a PullError leaves the watermark where it was (and is recorded)."""
    window = await _window(kernel, target, settings)
    tally = PullTally()
    url: str | None = first_page_url(
        target.shop, since=window.since, until=window.until, limit=settings.order_pull_page_size
    )
    try:
        while url is not None:
            page = await fetch_page(client, target.shop, url)
            url = page.next_url
            await _take_page(kernel, target, settings, page.orders, window, tally, last=url is None)
    except PullError as exc:
        await _failed(kernel, target, window, str(exc))
        raise
    return tally


async def _window(kernel: Kernel, target: PullTarget, settings: OrderReviewSettings) -> PullWindow:
    async with kernel.uow() as uow:
        now = uow.clock.now()
        state = await repository.pull_state(uow.session, target.platform, target.shop_id)
    start = state.watermark if state else now - timedelta(seconds=settings.order_pull_lookback_s)
    return PullWindow(start, start - timedelta(seconds=settings.order_pull_overlap_s), now)


async def _take_page(
    kernel: Kernel,
    target: PullTarget,
    settings: OrderReviewSettings,
    orders: list[Mapping[str, Any]],
    window: PullWindow,
    tally: PullTally,
    *,
    last: bool,
) -> None:
    """The page's orders through intake, and the pull's progress, in one transaction; orders
    the platform cancelled are cancelled here first (each its own command)."""
    for payload in orders:
        if payload.get("cancelled_at"):
            await _cancel(kernel, target, payload)
    cmds = [cmd for order in orders if (cmd := _accept(kernel, target, settings, order, tally))]
    async with kernel.uow() as uow:
        accepted = await stage_orders(uow, cmds) if cmds else []
        created = sum(a.created for a in accepted)
        await repository.advance_pull(
            uow.session, target.platform, target.shop_id,
            watermark=window.until if last else window.start, at=uow.clock.now(),
            pulled=len(orders), reconciled=created,
        )  # fmt: skip
        await uow.commit()
    tally.pulled += len(orders)
    tally.reconciled += created
    metrics.PULLED.labels(target.platform, target.shop_id).inc(len(orders))
    metrics.RECONCILED.labels(target.platform, "pull").inc(created)
    metrics.SHOP_RECONCILED.labels(target.platform, target.shop_id).inc(created)
    if created:
        log.info("orders_reconciled", platform=target.platform, shop=target.shop_id, count=created)


async def _cancel(kernel: Kernel, target: PullTarget, payload: Mapping[str, Any]) -> None:
    """A platform-side cancellation of an order lvyue holds: before dispatch it is cancelled
    here (order.cancelled: stock released, fulfilment stops the shipment and tells the
    warehouse); after dispatch it is left to after-sales, logged and counted."""
    platform_order_id = str(payload.get("id"))
    async with kernel.uow() as uow:
        order_id = await repository.order_id_for(
            uow.session, platform=target.platform, shop_id=target.shop_id,
            platform_order_id=platform_order_id,
        )  # fmt: skip
    if order_id is None:
        return  # never accepted: nothing to stop
    reason = f"cancelled on {target.platform}: {payload.get('cancel_reason') or 'no reason given'}"
    try:
        await cancel_order(CancelOrder(order_id, reason, f"{target.platform} (pull)"), kernel.uow())
        outcome = "cancelled"
    except TransitionNotAllowed as exc:
        outcome = "already" if exc.current == OrderStatus.CANCELLED else "after_dispatch"
    metrics.CANCELLATIONS.labels(target.platform, outcome).inc()
    log.info(
        "platform_cancellation", platform=target.platform, shop=target.shop_id,
        order_id=str(order_id), outcome=outcome,
    )  # fmt: skip


def _accept(
    kernel: Kernel,
    target: PullTarget,
    settings: OrderReviewSettings,
    payload: Mapping[str, Any],
    tally: PullTally,
) -> AcceptOrder | None:
    """The intake command for a pulled order; None for a cancelled or unreadable one."""
    if payload.get("cancelled_at"):
        return None  # never accepted, or cancelled since: nothing to ship
    adapter = ADAPTERS[target.platform]
    try:
        order = adapter.to_canonical({SHOP_HEADER: target.shop_id}, payload)
    except (PayloadError, ValidationError) as exc:
        tally.invalid += 1
        log.warning(
            "pulled_order_invalid", platform=target.platform, shop=target.shop_id,
            order=str(payload.get("id")), error=str(exc)[:300],
        )  # fmt: skip
        return None
    shop_tz = settings.shop_timezone(order.platform, order.shop_id)
    return AcceptOrder(
        platform=target.platform,
        delivery_id=f"{PULL_DELIVERY_PREFIX}{order.platform_order_id}",
        order=order,
        raw_body=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        review_due=kernel.sla.due_at(REVIEW_SLA, order.paid_at, tz=shop_tz),
    )


async def _failed(kernel: Kernel, target: PullTarget, window: PullWindow, error: str) -> None:
    async with kernel.uow() as uow:
        await repository.record_pull_failure(
            uow.session, target.platform, target.shop_id,
            at=uow.clock.now(), error=error, start=window.start,
        )  # fmt: skip
        await uow.commit()
    metrics.PULL_FAILURES.labels(target.platform, target.shop_id).inc()
    log.warning("order_pull_failed", platform=target.platform, shop=target.shop_id, error=error)
