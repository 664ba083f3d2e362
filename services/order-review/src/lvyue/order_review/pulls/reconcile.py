"""One pull of one shop: its orders updated since the watermark (less the overlap), page by
page, each through intake; the watermark moves with the last page's commit. An order lvyue
holds whose receiver the platform now gives differently is the buyer's address change, whether
or not a notification said so."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import structlog

from lvyue.common.bootstrap import Kernel
from lvyue.order_review import repository
from lvyue.order_review.commands.intake import AcceptOrder, stage_orders
from lvyue.order_review.pulls import metrics
from lvyue.order_review.pulls.calls import PullError
from lvyue.order_review.pulls.orders import (
    UNREADABLE,
    ShopSource,
    accept_command,
    cancel_here,
    cancellation,
    follow_receiver,
)
from lvyue.order_review.pulls.source import RawOrder
from lvyue.order_review.pulls.sources import SOURCES
from lvyue.order_review.repository.pulls import PULL_DELIVERY_PREFIX
from lvyue.order_review.review import ReviewContext
from lvyue.order_review.settings import OrderReviewSettings

log = structlog.get_logger(__name__)


class PullTarget(ShopSource):
    @classmethod
    def all(cls, settings: OrderReviewSettings) -> list[PullTarget]:
        found = []
        for key, shop in sorted(settings.order_pull_shops.items()):
            platform, _, shop_id = key.partition("/")
            found.append(cls(platform, shop_id, shop, SOURCES[platform]))
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
    receivers_changed: int = 0  # held orders whose receiver the platform now gives otherwise


@dataclass(frozen=True)
class Pulling:
    """One pull of one shop under way."""

    kernel: Kernel
    target: PullTarget
    settings: OrderReviewSettings
    review: ReviewContext
    window: PullWindow
    tally: PullTally


async def pull_shop(
    kernel: Kernel,
    client: httpx.AsyncClient,
    target: PullTarget,
    settings: OrderReviewSettings,
    review: ReviewContext,
) -> PullTally:
    """Pulls the shop once; a failure (a PullError, or any other exception) leaves the
    watermark where it was, is recorded, and is raised again."""
    window = await _window(kernel, target, settings)
    tally = PullTally()
    pages = target.source.pages(
        client, target.shop, since=window.since, until=window.until,
        limit=settings.order_pull_page_size,
    )  # fmt: skip
    pulling = Pulling(kernel, target, settings, review, window, tally)
    try:
        async for page in pages:
            await _take_page(pulling, page.orders, last=page.last)
    except Exception as exc:  # the platform's refusal or anything unforeseen: recorded alike
        await _failed(kernel, target, window, exc)
        raise
    return tally


async def _window(kernel: Kernel, target: PullTarget, settings: OrderReviewSettings) -> PullWindow:
    async with kernel.uow() as uow:
        now = uow.clock.now()
        state = await repository.pull_state(uow.session, target.platform, target.shop_id)
    start = state.watermark if state else now - timedelta(seconds=settings.order_pull_lookback_s)
    return PullWindow(start, start - timedelta(seconds=settings.order_pull_overlap_s), now)


async def _take_page(pulling: Pulling, orders: list[RawOrder], *, last: bool) -> None:
    """The page's orders through intake, and the pull's progress, in one transaction; orders
    the platform cancelled are cancelled here first, and held orders' new receivers followed
    (each its own command). An order created here that a notification announced (its fetch not
    done yet) is not counted as missed."""
    kernel, target, settings = pulling.kernel, pulling.target, pulling.settings
    window, tally, source = pulling.window, pulling.tally, target.source
    cmds = []
    for raw in orders:
        reason = cancellation(target, raw)
        if reason is UNREADABLE:
            tally.invalid += 1
            continue
        if reason is not None:
            await cancel_here(kernel, target, source.order_id(raw), reason)
            continue  # never accepted, or cancelled since: nothing to ship
        delivery = f"{PULL_DELIVERY_PREFIX}{source.order_id(raw)}"
        cmd = accept_command(kernel, settings, target, raw, delivery_id=delivery)
        if cmd is None:
            tally.invalid += 1
        else:
            cmds.append(cmd)
    await _follow_receivers(pulling, cmds)
    async with kernel.uow() as uow:
        accepted = await stage_orders(uow, cmds) if cmds else []
        created = [
            c.order.platform_order_id for c, a in zip(cmds, accepted, strict=True) if a.created
        ]
        announced = await repository.notified_orders(
            uow.session, target.platform, target.shop_id, created
        )
        missed = len(created) - len(announced)
        await repository.advance_pull(
            uow.session, target.platform, target.shop_id,
            watermark=window.until if last else window.start, at=uow.clock.now(),
            pulled=len(orders), reconciled=missed,
        )  # fmt: skip
        await uow.commit()
    tally.pulled += len(orders)
    tally.reconciled += missed
    metrics.PULLED.labels(target.platform, target.shop_id).inc(len(orders))
    metrics.RECONCILED.labels(target.platform, "pull").inc(missed)
    metrics.SHOP_RECONCILED.labels(target.platform, target.shop_id).inc(missed)
    if missed:
        log.info("orders_reconciled", platform=target.platform, shop=target.shop_id, count=missed)


async def _follow_receivers(pulling: Pulling, cmds: list[AcceptOrder]) -> None:
    """Held orders whose receiver on the platform is not the one it gave before: the buyer
    changed it. Followed before the page's commit, so a crash reads the page and them again."""
    target = pulling.target
    async with pulling.kernel.uow() as uow:
        known = await repository.platform_receivers(
            uow.session, platform=target.platform, shop_id=target.shop_id,
            platform_order_ids=[c.order.platform_order_id for c in cmds],
        )  # fmt: skip
    for cmd in cmds:
        held = known.get(cmd.order.platform_order_id)
        if held is None or held[1] == cmd.order.receiver:
            continue
        order_id, _ = held
        outcome = await follow_receiver(
            pulling.kernel, target, pulling.review, order_id, cmd.order.receiver, found_by="pull"
        )
        if outcome != "unchanged":
            pulling.tally.receivers_changed += 1


async def _failed(kernel: Kernel, target: PullTarget, window: PullWindow, exc: Exception) -> None:
    """The shop's pull failed: last_error and failing_since (the pull-failing gauge) say so.
    An exception other than PullError is no refusal of the platform's: its type is named and
    its traceback logged, for whoever fixes it."""
    expected = isinstance(exc, PullError)
    error = str(exc) if expected else f"{type(exc).__name__}: {exc}"
    async with kernel.uow() as uow:
        await repository.record_pull_failure(
            uow.session, target.platform, target.shop_id,
            at=uow.clock.now(), error=error[:500], start=window.start,
        )  # fmt: skip
        await uow.commit()
    metrics.PULL_FAILURES.labels(target.platform, target.shop_id).inc()
    traceback = {} if expected else {"exc_info": exc}
    log.warning(
        "order_pull_failed", platform=target.platform, shop=target.shop_id, error=error[:500],
        **traceback,
    )  # fmt: skip
