"""The job that reads each 淘宝 app's message queue (TMC, over the gateway): it stores every
trade message (a repeat once) and confirms the batch only after the commit, so a message lost
to a crash is delivered again; a full batch is followed at once by the next, an empty queue is
read again after LVYUE_MESSAGE_POLL_INTERVAL_S."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import httpx
import structlog

from lvyue.common.bootstrap import BackgroundJob, Kernel
from lvyue.common.jobs import every_holding
from lvyue.order_review import repository
from lvyue.order_review.notifications import taobao
from lvyue.order_review.pulls import metrics
from lvyue.order_review.pulls.calls import PullError, platform_client, with_retries
from lvyue.order_review.pulls.reconcile import PullTarget
from lvyue.order_review.pulls.taobao import call
from lvyue.order_review.settings import OrderReviewSettings, ShopPull

log = structlog.get_logger(__name__)


def message_queues_job(settings: OrderReviewSettings) -> BackgroundJob:
    """One reader per app: shops that share an app share its queue (each message names its
    seller)."""
    apps = {
        (t.shop.base_url, t.shop.app_key, t.shop.message_group): t.shop
        for t in PullTarget.all(settings)
        if t.platform == taobao.PLATFORM
    }
    quantity = min(settings.notification_fetch_batch, taobao.MAX_QUANTITY)

    async def read_message_queues(kernel: Kernel, client: httpx.AsyncClient) -> bool:
        """Each app's queue once; True when one gave a full batch (more may be waiting). An
        app whose queue cannot be read does not hold up the others; the run then fails (and
        is counted) once all were tried."""
        full, failed = False, []
        for app in apps.values():
            try:
                full |= await read_queue(kernel, client, app, quantity)
            except PullError as exc:
                failed.append(f"{app.app_key}: {exc}")
        if failed:
            raise PullError("; ".join(failed)[:500])
        return full

    return every_holding(
        partial(platform_client, settings),
        settings.message_poll_interval_s,
        read_message_queues,
        drain=True,
    )


async def read_queue(
    kernel: Kernel, client: httpx.AsyncClient, app: ShopPull, quantity: int
) -> bool:
    """One consume call's messages stored, then confirmed; True if the batch was full."""
    business = {"group_name": app.message_group, "quantity": str(quantity)}
    answer = await with_retries(
        partial(call, client, app, taobao.CONSUME, business, app_level=True)
    )
    try:
        consumed = taobao.read_consumed(answer)
    except taobao.MessagesError as exc:
        metrics.NOTIFICATIONS.labels(taobao.PLATFORM, "-", "unreadable").inc()
        raise PullError(str(exc)) from exc
    new: set[str] = set()
    if consumed.notifications:
        async with kernel.uow() as uow:
            new = await repository.record_notifications(
                uow.session, consumed.notifications, received_at=uow.clock.now()
            )
            await uow.commit()
    _count(consumed, new)
    if consumed.confirm:
        await _confirm(client, app, consumed.confirm)
    return len(consumed.confirm) + len(consumed.unreadable) >= quantity


async def _confirm(client: httpx.AsyncClient, app: ShopPull, ids: Sequence[str]) -> None:
    """After the commit: a confirmation lost is a redelivery, stored once."""
    business = {"group_name": app.message_group, "s_message_ids": ",".join(ids)}
    answer = await with_retries(
        partial(call, client, app, taobao.CONFIRM, business, app_level=True)
    )
    confirmed = answer.get("tmc_messages_confirm_response")
    if not (isinstance(confirmed, dict) and confirmed.get("is_success") is True):
        log.warning("message_confirm_refused", platform=taobao.PLATFORM, count=len(ids))


def _count(consumed: taobao.Consumed, new: set[str]) -> None:
    for item in consumed.notifications:
        outcome = "new" if item.message_id in new else "repeat"
        metrics.NOTIFICATIONS.labels(taobao.PLATFORM, item.kind, outcome).inc()
    if consumed.ignored:
        metrics.NOTIFICATIONS.labels(taobao.PLATFORM, "other", "ignored").inc(consumed.ignored)
    if consumed.unreadable:
        count = len(consumed.unreadable)
        metrics.NOTIFICATIONS.labels(taobao.PLATFORM, "-", "unreadable").inc(count)
        problems = consumed.unreadable[:5]  # enough to see what is wrong; the count says more
        log.warning("message_unreadable", platform=taobao.PLATFORM, problems=problems)
