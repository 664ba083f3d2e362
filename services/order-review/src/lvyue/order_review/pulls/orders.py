"""A platform's order, as a pull or a notification's fetch found it, taken to lvyue: the intake
command of a new order, the cancellation of one lvyue holds, or its buyer's new receiver."""

from __future__ import annotations

import enum
import json
import uuid
from dataclasses import dataclass

import structlog
from pydantic import ValidationError

from lvyue.common.bootstrap import Kernel
from lvyue.common.contracts.order import Receiver
from lvyue.common.contracts.text import cleaned_free_text
from lvyue.order_review import repository
from lvyue.order_review.commands.intake import AcceptOrder
from lvyue.order_review.commands.operator import CancelOrder, cancel_order
from lvyue.order_review.commands.platform_changes import (
    ChangeReceiver,
    ReportCancelAfterDispatch,
    change_receiver,
    report_cancel_after_dispatch,
)
from lvyue.order_review.domain.slas import REVIEW_SLA
from lvyue.order_review.domain.status import OrderStatus
from lvyue.order_review.domain.transitions import TransitionNotAllowed
from lvyue.order_review.platforms import ADAPTERS
from lvyue.order_review.platforms.base import PayloadError
from lvyue.order_review.pulls import metrics
from lvyue.order_review.pulls.source import OrderSource, RawOrder
from lvyue.order_review.review import ReviewContext
from lvyue.order_review.settings import OrderReviewSettings, ShopPull

log = structlog.get_logger(__name__)

REASON_CHARS = 500  # a platform's cancel reason, cut as an operator's is limited


class Unreadable(enum.Enum):
    """An order that could not be read, already logged and counted (pulls.metrics.UNREADABLE)."""

    UNREADABLE = "unreadable"


UNREADABLE = Unreadable.UNREADABLE


@dataclass(frozen=True)
class ShopSource:
    """One configured shop and how its platform's orders are read."""

    platform: str
    shop_id: str
    shop: ShopPull
    source: OrderSource


def accept_command(
    kernel: Kernel,
    settings: OrderReviewSettings,
    target: ShopSource,
    raw: RawOrder,
    *,
    delivery_id: str,
) -> AcceptOrder | None:
    """The intake command for an order read from the platform; None for an unreadable one
    (logged and counted: the platform's data, not a fault of the pull). Whatever fails on the
    way is the order's (a date at the end of the calendar overflows its review's due time):
    one such order must not hold up the page or batch it came in."""
    try:
        headers, payload = target.source.adapter_input(target.shop_id, raw)
        # the platform's clock, as a webhook's: an order paid more than a day ahead is not real
        now = kernel.uow.wall_clock.now()
        order = ADAPTERS[target.platform].to_canonical(headers, payload, now=now)
        shop_tz = settings.shop_timezone(order.platform, order.shop_id)
        return AcceptOrder(
            platform=target.platform,
            delivery_id=delivery_id,
            order=order,
            raw_body=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
            review_due=kernel.sla.due_at(REVIEW_SLA, order.paid_at, tz=shop_tz),
        )
    except Exception as exc:  # whatever it is, it is this one order's
        unreadable(target, raw, exc)
        return None


def cancellation(target: ShopSource, raw: RawOrder) -> str | Unreadable | None:
    """Why the platform cancelled the order (None if it did not); UNREADABLE, logged and
    counted, when the order cannot even be read for that (a status of the wrong type)."""
    try:
        reason = target.source.cancellation(raw)
    except Exception as exc:  # the platform's data: this one order's failure
        unreadable(target, raw, exc)
        return UNREADABLE
    # The platform's words go to the order's history and to events: kept as an operator's
    # would be (one cut, no invisible characters), never refused, since the cancel must land.
    if reason is None:
        return None
    return cleaned_free_text(reason, REASON_CHARS)


def unreadable(target: ShopSource, raw: RawOrder, exc: Exception) -> None:
    """An order the platform gave that cannot be taken in: counted and logged, then passed
    by (the pull reads it again while it stays in the window; the operator sees why)."""
    metrics.UNREADABLE.labels(target.platform, target.shop_id).inc()
    expected = isinstance(exc, PayloadError | ValidationError)
    error = str(exc) if expected else f"{type(exc).__name__}: {exc}"
    log.warning(
        "platform_order_invalid", platform=target.platform, shop=target.shop_id,
        order=_order_id(target, raw), error=error[:300],
    )  # fmt: skip


def _order_id(target: ShopSource, raw: RawOrder) -> str:
    try:
        return target.source.order_id(raw)[:64]
    except Exception:  # only a label for the log
        return "?"


async def cancel_here(
    kernel: Kernel, target: ShopSource, platform_order_id: str, reason: str
) -> None:
    """A platform-side cancellation of an order lvyue holds: before dispatch it is cancelled
    here (order.cancelled: stock released, fulfilment stops the shipment and tells the
    warehouse); after dispatch it is reported once to aftersales, which opens a case."""
    async with kernel.uow() as uow:
        order_id = await repository.order_id_for(
            uow.session, platform=target.platform, shop_id=target.shop_id,
            platform_order_id=platform_order_id,
        )  # fmt: skip
    if order_id is None:
        return  # never accepted: nothing to stop
    why = f"cancelled on {target.platform}: {reason or 'no reason given'}"
    try:
        await cancel_order(CancelOrder(order_id, why, target.platform), kernel.uow())
        outcome = "cancelled"
    except TransitionNotAllowed as exc:
        outcome = "already"
        if exc.current != OrderStatus.CANCELLED:  # dispatched: aftersales opens a case
            report = ReportCancelAfterDispatch(order_id, target.platform, reason or "no reason")
            if await report_cancel_after_dispatch(report, kernel.uow()):
                outcome = "after_dispatch"
    if outcome != "already":
        metrics.CANCELLATIONS.labels(target.platform, outcome).inc()
        log.info(
            "platform_cancellation", platform=target.platform, shop=target.shop_id,
            order_id=str(order_id), outcome=outcome,
        )  # fmt: skip


async def follow_receiver(
    kernel: Kernel,
    target: ShopSource,
    review: ReviewContext,
    order_id: uuid.UUID,
    receiver: Receiver,
    *,
    found_by: str,
) -> str:
    """The buyer's new receiver for an order lvyue holds (commands.platform_changes), counted
    and logged; `found_by` says whether a notification or a pull brought it."""
    change = ChangeReceiver(order_id, receiver, target.platform)
    outcome = await change_receiver(change, kernel.uow(), review)
    metrics.ADDRESS_CHANGES.labels(target.platform, outcome).inc()
    log.info(
        "platform_address_change", platform=target.platform, shop=target.shop_id,
        order_id=str(order_id), outcome=outcome, found_by=found_by,
    )  # fmt: skip
    return outcome
