"""Review: combine the inventory outcome with the review rules; reviewed or abnormal."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import structlog
from prometheus_client import Counter

from lvyue.common.deadlines.sla import SlaPolicies
from lvyue.common.deadlines.store import close_deadline, close_deadlines, open_deadline
from lvyue.common.events import Envelope
from lvyue.common.events.catalog import (
    ORDER_ABNORMAL,
    ORDER_REVIEWED,
    InventoryRejected,
    InventoryReserved,
    OrderAbnormal,
    OrderReviewed,
    OrderShipped,
)
from lvyue.common.uow import UnitOfWork
from lvyue.order_review import repository
from lvyue.order_review.repository import ReviewState, StockColumns
from lvyue.order_review.rules import ReviewConfig, StockOutcome, priority, review
from lvyue.order_review.status import OrderStatus
from lvyue.order_review.transitions import Action, allowed

log = structlog.get_logger(__name__)

REVIEWED = Counter("lvyue_review_outcomes_total", "Review outcomes", ["outcome"])
ABNORMAL_REASONS = Counter("lvyue_review_abnormal_reasons_total", "Why orders failed", ["reason"])

REVIEW_SLA = "review_by_0900"
CONTACT_SLA = "abnormal_contact_2h"
DISPATCH_SLA = "dispatch_1600"


@dataclass(frozen=True)
class ReviewContext:
    """Built once at start-up: the rules' configuration and the SLA policies."""

    config: ReviewConfig
    sla: SlaPolicies


def stock_outcome(state: ReviewState) -> StockOutcome:
    stock: dict[str, Any] = state.stock or {}
    return StockOutcome(
        reserved=state.stock_status == "reserved",
        short_skus=tuple(s["sku"] for s in stock.get("short", ())),
        unknown_skus=tuple(stock.get("unknown_skus", ())),
    )


async def decide(
    state: ReviewState, uow: UnitOfWork, ctx: ReviewContext, *, record_stock: bool = False
) -> OrderStatus:
    """Runs every rule on an order whose stock outcome is known; records and announces it.

    `record_stock`: the state's stock outcome is new and is written with the status.
    """
    now = uow.clock.now()
    findings = review(state.order, ctx.config, stock=stock_outcome(state))
    subject = str(state.id)
    stock = (
        StockColumns(state.stock_status, state.stock, state.warehouse_id) if record_stock else None
    )
    if not findings:
        await close_deadlines(uow, slas=(REVIEW_SLA, CONTACT_SLA), subject=subject, closed_at=now)
        await repository.set_status(
            uow.session,
            order_id=state.id,
            status=OrderStatus.REVIEWED,
            at=now,
            findings=[],
            stock=stock,
        )
        await uow.emit(
            ORDER_REVIEWED,
            OrderReviewed(
                order_id=state.id,
                warehouse_id=state.warehouse_id or "",
                priority=priority(state.order),
                promised_dispatch_at=ctx.sla.due_at(DISPATCH_SLA, now),
                reviewed_at=now,
                order=state.order,
            ),
            subject=subject,
        )
        uow.after_commit(lambda: REVIEWED.labels("reviewed").inc())
        return OrderStatus.REVIEWED
    await close_deadline(uow, sla=REVIEW_SLA, subject=subject, closed_at=now)
    recorded = [{"reason": str(f.reason), "detail": f.detail} for f in findings]
    await repository.set_status(
        uow.session,
        order_id=state.id,
        status=OrderStatus.ABNORMAL,
        at=now,
        findings=recorded,
        stock=stock,
    )
    await open_deadline(
        uow,
        sla=CONTACT_SLA,
        subject=subject,
        opened_at=now,
        due_at=ctx.sla.due_at(CONTACT_SLA, now),
    )
    reasons = tuple(str(f.reason) for f in findings)
    await uow.emit(
        ORDER_ABNORMAL,
        OrderAbnormal(order_id=state.id, reasons=reasons, flagged_at=now),
        subject=subject,
    )

    def count() -> None:
        REVIEWED.labels("abnormal").inc()
        for reason in reasons:
            ABNORMAL_REASONS.labels(reason).inc()

    uow.after_commit(count)
    return OrderStatus.ABNORMAL


async def _apply_stock(
    uow: UnitOfWork,
    ctx: ReviewContext,
    order_id: uuid.UUID,
    *,
    stock_status: str,
    stock: dict[str, Any],
    warehouse_id: str,
) -> None:
    state = await repository.lock_order(uow.session, order_id)
    if state is None or not allowed(Action.APPLY_STOCK_OUTCOME, state.status):
        # e.g. cancelled meanwhile: inventory releases on order.cancelled; nothing to review
        log.info(
            "stock_outcome_ignored", order_id=str(order_id), status=getattr(state, "status", None)
        )
        return
    state = ReviewState(
        id=state.id,
        status=state.status,
        order=state.order,
        stock_status=stock_status,
        stock=stock,
        warehouse_id=warehouse_id,
    )
    await decide(state, uow, ctx, record_stock=True)


def inventory_handlers(ctx: ReviewContext) -> dict[str, Any]:
    """Event handlers bound to this process's review context."""

    async def on_reserved(event: Envelope, uow: UnitOfWork) -> None:
        reserved = event.payload(InventoryReserved)
        await _apply_stock(
            uow,
            ctx,
            reserved.order_id,
            stock_status="reserved",
            stock=reserved.model_dump(mode="json"),
            warehouse_id=reserved.warehouse_id,
        )

    async def on_rejected(event: Envelope, uow: UnitOfWork) -> None:
        rejected = event.payload(InventoryRejected)
        await _apply_stock(
            uow,
            ctx,
            rejected.order_id,
            stock_status="rejected",
            stock=rejected.model_dump(mode="json"),
            warehouse_id=rejected.warehouse_id,
        )

    return {"inventory.reserved": on_reserved, "inventory.rejected": on_rejected}


async def on_shipped(event: Envelope, uow: UnitOfWork) -> None:
    shipped = event.payload(OrderShipped)
    state = await repository.lock_order(uow.session, shipped.order_id)
    if state is None or not allowed(Action.MARK_SHIPPED, state.status):
        log.warning("shipped_event_ignored", order_id=str(shipped.order_id))
        return
    await repository.set_status(
        uow.session,
        order_id=state.id,
        status=OrderStatus.SHIPPED,
        at=uow.clock.now(),
        note=f"{shipped.carrier} {shipped.tracking_number}",
    )
