"""Review: combine the inventory outcome with the review rules; reviewed or abnormal."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import structlog
from prometheus_client import Counter

from lvyue.common.consumer import Subscription
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
from lvyue.common.events import Envelope
from lvyue.common.events.catalog import (
    INVENTORY_REJECTED,
    INVENTORY_RESERVED,
    ORDER_ABNORMAL,
    ORDER_REVIEWED,
    FindingAcceptance,
    InventoryRejected,
    InventoryReserved,
    OrderAbnormal,
    OrderReviewed,
    OrderShipped,
)
from lvyue.common.uow import UnitOfWork
from lvyue.order_review import repository
from lvyue.order_review.repository import ReviewDecision, ReviewState, StockColumns
from lvyue.order_review.rules import Finding, ReviewConfig, StockOutcome, priority, review
from lvyue.order_review.rules.acceptance import Acceptance, Resolution, resolve
from lvyue.order_review.status import OrderStatus
from lvyue.order_review.transitions import Action, allowed

log = structlog.get_logger(__name__)

REVIEWED = Counter("lvyue_review_outcomes_total", "Review outcomes", ["outcome"])
ABNORMAL_REASONS = Counter("lvyue_review_abnormal_reasons_total", "Why orders failed", ["reason"])

REVIEW_SLA = "review_by_0900"
CONTACT_SLA = "abnormal_contact_2h"


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
    findings = judged.remaining
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
            accepted=judged.accepted,
        )
        await _announce(uow, ctx, state, judged, now)
        return OrderStatus.REVIEWED
    await close_deadline(uow, sla=REVIEW_SLA, subject=subject, closed_at=now)
    await repository.set_status(
        uow.session,
        order_id=state.id,
        status=OrderStatus.ABNORMAL,
        at=now,
        findings=_recorded(findings),
        stock=stock,
        accepted=judged.accepted,
    )
    await open_deadline(
        uow,
        sla=CONTACT_SLA,
        subject=subject,
        opened_at=now,
        due_at=ctx.sla.due_at(CONTACT_SLA, now),
    )
    await _announce(uow, ctx, state, judged, now)
    return OrderStatus.ABNORMAL


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
                stock=StockColumns(state.stock_status, state.stock, state.warehouse_id),
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
            NewDeadline(CONTACT_SLA, str(state.id), now, contact_due)
            for state, j in judged
            if j.remaining
        ],
    )
    for state, j in judged:
        await _announce(uow, ctx, state, j, now)


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
    findings = judged.remaining
    if not findings:
        await uow.emit(
            ORDER_REVIEWED,
            OrderReviewed(
                order_id=state.id,
                warehouse_id=state.warehouse_id or "",
                priority=priority(state.order),
                promised_dispatch_at=ctx.warehouses.due_times(
                    state.warehouse_id or "", now
                ).dispatch_due_at,
                reviewed_at=now,
                order=state.order,
                accepted_findings=tuple(accepted_payload(a) for a in judged.accepted),
            ),
            subject=subject,
        )
        uow.after_commit(REVIEWED.labels("reviewed").inc)
        return
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


@dataclass(frozen=True)
class StockAnswer:
    """inventory.reserved or inventory.rejected, as review keeps it."""

    order_id: uuid.UUID
    stock_status: str
    stock: dict[str, Any]
    warehouse_id: str

    @classmethod
    def of(cls, event: Envelope) -> StockAnswer:
        if event.type == INVENTORY_RESERVED.ce_type:
            reserved = event.payload(InventoryReserved)
            return cls(reserved.order_id, "reserved", reserved.model_dump(mode="json"),
                       reserved.warehouse_id)  # fmt: skip
        rejected = event.payload(InventoryRejected)
        return cls(rejected.order_id, "rejected", rejected.model_dump(mode="json"),
                   rejected.warehouse_id)  # fmt: skip


def _with_answer(state: ReviewState | None, answer: StockAnswer) -> ReviewState | None:
    """The order with its stock outcome, or None when it no longer waits for one."""
    if state is None or not allowed(Action.APPLY_STOCK_OUTCOME, state.status):
        # e.g. cancelled meanwhile: inventory releases on order.cancelled; nothing to review
        log.info(
            "stock_outcome_ignored",
            order_id=str(answer.order_id),
            status=getattr(state, "status", None),
        )
        return None
    return replace(
        state,
        stock_status=answer.stock_status,
        stock=answer.stock,
        warehouse_id=answer.warehouse_id,
    )


async def apply_stock(uow: UnitOfWork, ctx: ReviewContext, answer: StockAnswer) -> None:
    state = _with_answer(await repository.lock_order(uow.session, answer.order_id), answer)
    if state is not None:
        await decide(state, uow, ctx, record_stock=True)


async def apply_stock_all(
    uow: UnitOfWork, ctx: ReviewContext, answers: Sequence[StockAnswer]
) -> None:
    """apply_stock for a poll's answers at once; an order answered twice in one poll (an
    updated order reserved again) is judged in turn instead, one answer at a time."""
    ids = [a.order_id for a in answers]
    if len(set(ids)) < len(ids):
        for answer in answers:
            await apply_stock(uow, ctx, answer)
        return
    locked = await repository.lock_orders(uow.session, ids)
    states = [_with_answer(locked.get(a.order_id), a) for a in answers]
    await decide_all([s for s in states if s is not None], uow, ctx)


def inventory_subscriptions(ctx: ReviewContext) -> list[Subscription]:
    """Review's inputs, bound to this process's review context."""

    async def one(event: Envelope, uow: UnitOfWork) -> None:
        await apply_stock(uow, ctx, StockAnswer.of(event))

    async def many(events: Sequence[Envelope], uow: UnitOfWork) -> None:
        await apply_stock_all(uow, ctx, [StockAnswer.of(e) for e in events])

    return [
        Subscription(INVENTORY_RESERVED, one, batch_handler=many),
        Subscription(INVENTORY_REJECTED, one, batch_handler=many),
    ]


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
