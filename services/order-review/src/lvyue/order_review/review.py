"""Review: combine the inventory outcome with the review rules; reviewed or abnormal. Called by
the event handlers (a stock outcome arrived) and by the operators' commands (a correction, an
acceptance)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from prometheus_client import Counter

from lvyue.common.deadlines.forecast import shop_queue
from lvyue.common.deadlines.sla import SlaPolicies
from lvyue.common.deadlines.store import (
    NewDeadline,
    close_deadline,
    close_deadlines,
    close_many,
    open_deadline,
    open_many,
)
from lvyue.common.deadlines.warehouses import WarehousePolicies
from lvyue.common.events.catalog import (
    ORDER_ABNORMAL,
    ORDER_REVIEWED,
    FindingAcceptance,
    OrderAbnormal,
    OrderReviewed,
)
from lvyue.common.uow import UnitOfWork
from lvyue.order_review import repository
from lvyue.order_review.domain.rules import Finding, ReviewConfig, StockOutcome, priority, review
from lvyue.order_review.domain.rules.acceptance import Acceptance, Resolution, resolve
from lvyue.order_review.domain.slas import CONTACT_SLA, REVIEW_SLA
from lvyue.order_review.domain.status import OrderStatus
from lvyue.order_review.repository import ReviewDecision, ReviewState, StockColumns

log = structlog.get_logger(__name__)

REVIEWED = Counter("lvyue_review_outcomes_total", "Review outcomes", ["outcome"])
ABNORMAL_REASONS = Counter("lvyue_review_abnormal_reasons_total", "Why orders failed", ["reason"])


@dataclass(frozen=True)
class ReviewContext:
    """Built once at start-up: the rules' configuration and the SLA policies; the dispatch
    promise comes from the warehouse policies fulfilment tracks the deadline by."""

    config: ReviewConfig
    sla: SlaPolicies
    warehouses: WarehousePolicies


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
    judged = judge(state, ctx)
    status = OrderStatus.ABNORMAL if judged.remaining else OrderStatus.REVIEWED
    await _track_deadlines(uow, ctx, state, judged, now)
    await repository.set_status(
        uow.session,
        order_id=state.id,
        status=status,
        at=now,
        findings=_recorded(judged.remaining),
        stock=_stock(state) if record_stock else None,
        accepted=judged.accepted,
    )
    await _announce(uow, ctx, state, judged, now)
    return status


async def _track_deadlines(
    uow: UnitOfWork, ctx: ReviewContext, state: ReviewState, judged: Resolution, now: datetime
) -> None:
    """review_by_0900 closes on the decision; the 2 h contact deadline opens when the order is
    abnormal and closes when it is reviewed (after operators resolved it)."""
    subject = str(state.id)
    if not judged.remaining:
        await close_deadlines(uow, slas=(REVIEW_SLA, CONTACT_SLA), subject=subject, closed_at=now)
        return
    await close_deadline(uow, sla=REVIEW_SLA, subject=subject, closed_at=now)
    await open_deadline(
        uow,
        sla=CONTACT_SLA,
        subject=subject,
        opened_at=now,
        due_at=ctx.sla.due_at(CONTACT_SLA, now),
        queue=_contact_queue(state),
    )


def _stock(state: ReviewState) -> StockColumns:
    return StockColumns(state.stock_status, state.stock, state.warehouse_id)


async def decide_all(states: Sequence[ReviewState], uow: UnitOfWork, ctx: ReviewContext) -> None:
    """decide(record_stock=True) for orders (each once) whose stock outcome just arrived, in
    a fixed number of statements."""
    now = uow.clock.now()
    judged = [(state, judge(state, ctx)) for state in states]
    await close_many(
        uow,
        [(REVIEW_SLA, str(state.id)) for state, _ in judged]
        + [(CONTACT_SLA, str(state.id)) for state, j in judged if not j.remaining],
        closed_at=now,
    )
    await repository.record_decisions(
        uow.session,
        [
            ReviewDecision(
                order_id=state.id,
                status=OrderStatus.ABNORMAL if j.remaining else OrderStatus.REVIEWED,
                findings=_recorded(j.remaining),
                stock=_stock(state),
                accepted=j.accepted,
            )
            for state, j in judged
        ],
        at=now,
    )
    contact_due = ctx.sla.due_at(CONTACT_SLA, now)
    await open_many(
        uow,
        [
            NewDeadline(CONTACT_SLA, str(state.id), now, contact_due, _contact_queue(state))
            for state, j in judged
            if j.remaining
        ],
    )
    for state, j in judged:
        await _announce(uow, ctx, state, j, now)


def _contact_queue(state: ReviewState) -> str:
    """Who calls the buyer: the shop's customer service (the breach forecast goes per shop)."""
    return shop_queue(state.order.platform, state.order.shop_id)


def judge(state: ReviewState, ctx: ReviewContext) -> Resolution:
    """Every rule on the order; the findings operators accepted are set apart."""
    findings = review(state.order, ctx.config, stock=stock_outcome(state))
    return resolve(findings, state.order, state.acceptances)


def accepted_payload(acceptance: Acceptance) -> FindingAcceptance:
    return FindingAcceptance(
        rule=str(acceptance.rule),
        detail=acceptance.detail,
        reason=str(acceptance.reason),
        note=acceptance.note,
        accepted_by=acceptance.actor,
        roles=acceptance.roles,
        accepted_at=acceptance.at,
    )


def _recorded(findings: Sequence[Finding]) -> list[dict[str, str]]:
    return [{"reason": str(f.reason), "detail": f.detail} for f in findings]


async def _announce(
    uow: UnitOfWork,
    ctx: ReviewContext,
    state: ReviewState,
    judged: Resolution,
    now: datetime,
) -> None:
    """order.reviewed (priority, promised dispatch, the findings accepted to let it through)
    or order.abnormal (every reason still open)."""
    subject = str(state.id)
    if not judged.remaining:
        await uow.emit(ORDER_REVIEWED, _reviewed(ctx, state, judged, now), subject=subject)
        uow.after_commit(REVIEWED.labels("reviewed").inc)
        return
    reasons = tuple(str(f.reason) for f in judged.remaining)
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


def _reviewed(
    ctx: ReviewContext, state: ReviewState, judged: Resolution, now: datetime
) -> OrderReviewed:
    warehouse_id = state.warehouse_id or ""
    return OrderReviewed(
        order_id=state.id,
        warehouse_id=warehouse_id,
        priority=priority(state.order),
        promised_dispatch_at=ctx.warehouses.due_times(warehouse_id, now).dispatch_due_at,
        reviewed_at=now,
        order=state.order,
        accepted_findings=tuple(accepted_payload(a) for a in judged.accepted),
    )
