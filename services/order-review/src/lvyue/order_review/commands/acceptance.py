"""An operator accepts a finding of an abnormal order; with none left open the order is reviewed.

Idempotent: accepting a finding already accepted (as it stands) changes nothing and answers the
acceptance recorded first, also once the order has been reviewed since.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime

from prometheus_client import Counter

from lvyue.common.events.catalog import ORDER_FINDING_ACCEPTED, FindingAccepted
from lvyue.common.uow import UnitOfWork
from lvyue.order_review import repository
from lvyue.order_review.commands.operator import OrderNotFound
from lvyue.order_review.domain.rules import Finding, Reason
from lvyue.order_review.domain.rules.acceptance import (
    Acceptance,
    AcceptancePolicy,
    AcceptanceReason,
    check_reason,
    fingerprint,
)
from lvyue.order_review.domain.status import OrderStatus
from lvyue.order_review.domain.transitions import Action, require
from lvyue.order_review.repository import ReviewState
from lvyue.order_review.review import ReviewContext, accepted_payload, decide, judge

ACCEPTED = Counter(
    "lvyue_review_findings_accepted_total", "Review findings accepted by operators", ["rule"]
)


class FindingNotPresent(Exception):
    """The order has no open finding of that rule to accept."""

    def __init__(self, order_id: uuid.UUID, rule: Reason, findings: list[Finding]) -> None:
        self.rule = rule
        names = ", ".join(str(f.reason) for f in findings) or "none"
        super().__init__(
            f"order {order_id} has no {rule} finding to accept (its open findings: {names})"
        )


@dataclass(frozen=True)
class AcceptFinding:
    order_id: uuid.UUID
    rule: Reason
    reason: AcceptanceReason
    note: str
    actor: str
    roles: frozenset[str]


@dataclass(frozen=True)
class AcceptanceOutcome:
    acceptance: Acceptance
    created: bool  # False: a repeat, nothing changed
    status: str  # the order's status afterwards
    remaining: list[Finding]  # findings still open (empty once reviewed)


@dataclass(frozen=True)
class _Target:
    finding: Finding  # the open finding to accept
    others: list[Finding]  # the findings still open besides it


async def accept_finding(
    cmd: AcceptFinding, uow: UnitOfWork, ctx: ReviewContext, policy: AcceptancePolicy
) -> AcceptanceOutcome:
    """Authorizes, records the acceptance (order row, history, order.finding_accepted) and,
    when no finding is left open, reviews the order (order.reviewed carries the acceptances).

    Raises AcceptanceRefused (role or rule not allowed), ReasonDoesNotFit, OrderNotFound,
    TransitionNotAllowed (not abnormal, never accepted before) or FindingNotPresent.
    """
    policy.authorize(cmd.rule, cmd.roles)
    check_reason(cmd.rule, cmd.reason, cmd.note)
    async with uow:
        state = await repository.lock_order(uow.session, cmd.order_id)
        if state is None:
            raise OrderNotFound(cmd.order_id)
        target = _target(cmd, state, ctx)
        if isinstance(target, AcceptanceOutcome):
            return target  # a repeat: nothing changes
        acceptance = _acceptance(cmd, target.finding, state, uow.clock.now())
        await _record(uow, cmd, state.id, acceptance, target.others)
        status: str = OrderStatus.ABNORMAL
        if not target.others:
            accepted = replace(state, acceptances=(*state.acceptances, acceptance))
            status = await decide(accepted, uow, ctx)
        await uow.commit()
    ACCEPTED.labels(str(cmd.rule)).inc()
    return AcceptanceOutcome(acceptance, True, status, target.others)


def _target(
    cmd: AcceptFinding, state: ReviewState, ctx: ReviewContext
) -> _Target | AcceptanceOutcome:
    """The open finding the command accepts, or the first answer again when it repeats an
    acceptance; raises when the order is not abnormal or has no such finding."""
    if state.status != OrderStatus.ABNORMAL:
        earlier = _latest(state.acceptances, cmd.rule)
        if earlier is not None:  # a repeat after the order moved on
            return AcceptanceOutcome(earlier, False, state.status, [])
        require(Action.ACCEPT_FINDING, state.status)
    judged = judge(state, ctx)
    finding = next((f for f in judged.remaining if f.reason == cmd.rule), None)
    if finding is None:
        earlier = next((a for a in judged.accepted if a.rule == cmd.rule), None)
        if earlier is not None:  # a repeat while other findings are still open
            return AcceptanceOutcome(earlier, False, state.status, judged.remaining)
        raise FindingNotPresent(cmd.order_id, cmd.rule, judged.remaining)
    return _Target(finding, [f for f in judged.remaining if f is not finding])


def _latest(acceptances: tuple[Acceptance, ...], rule: Reason) -> Acceptance | None:
    return next((a for a in reversed(acceptances) if a.rule == rule), None)


def _acceptance(
    cmd: AcceptFinding, finding: Finding, state: ReviewState, now: datetime
) -> Acceptance:
    return Acceptance(
        rule=cmd.rule,
        detail=finding.detail,
        reason=cmd.reason,
        note=cmd.note,
        actor=cmd.actor,
        roles=tuple(sorted(cmd.roles)),
        at=now,
        fingerprint=fingerprint(finding, state.order),  # what was accepted, to notice a change
    )


async def _record(
    uow: UnitOfWork,
    cmd: AcceptFinding,
    order_id: uuid.UUID,
    acceptance: Acceptance,
    remaining: list[Finding],
) -> None:
    """The acceptance on the order with its history row, and order.finding_accepted."""
    await repository.add_acceptance(
        uow.session,
        order_id=order_id,
        acceptance=acceptance,
        remaining=[{"reason": str(f.reason), "detail": f.detail} for f in remaining],
        note=f"{cmd.rule} accepted by {cmd.actor} ({', '.join(acceptance.roles)}): "
        f"{cmd.reason}" + (f", {cmd.note}" if cmd.note else ""),
    )
    await uow.emit(
        ORDER_FINDING_ACCEPTED,
        FindingAccepted(
            order_id=order_id,
            acceptance=accepted_payload(acceptance),
            remaining=tuple(str(f.reason) for f in remaining),
        ),
        subject=str(order_id),
    )
