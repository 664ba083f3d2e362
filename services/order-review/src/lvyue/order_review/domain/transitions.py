"""Which order status allows which action: the order-review state machine in one table."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from lvyue.order_review.domain.status import OrderStatus


class Action(StrEnum):
    APPLY_STOCK_OUTCOME = "apply the inventory outcome"
    RECORD_CONTACT = "record a customer contact"
    CORRECT = "correct the order"
    ACCEPT_FINDING = "accept a finding"
    CANCEL = "cancel"
    MARK_SHIPPED = "mark shipped"


S = OrderStatus
ALLOWED: Mapping[Action, frozenset[OrderStatus]] = MappingProxyType(
    {
        Action.APPLY_STOCK_OUTCOME: frozenset({S.PENDING_REVIEW}),
        Action.RECORD_CONTACT: frozenset({S.ABNORMAL}),
        Action.CORRECT: frozenset({S.ABNORMAL}),
        Action.ACCEPT_FINDING: frozenset({S.ABNORMAL}),
        # after dispatch a cancellation is an after-sale case, not a cancellation
        Action.CANCEL: frozenset({S.PENDING_REVIEW, S.ABNORMAL, S.REVIEWED}),
        Action.MARK_SHIPPED: frozenset({S.REVIEWED}),
    }
)


class TransitionNotAllowed(Exception):
    def __init__(self, action: Action, current: str) -> None:
        self.action = action
        self.current = current
        allowed = ", ".join(sorted(ALLOWED[action]))
        super().__init__(f"order is {current}: cannot {action} (allowed when: {allowed})")


def allowed(action: Action, current: str) -> bool:
    return current in ALLOWED[action]


def require(action: Action, current: str) -> None:
    if not allowed(action, current):
        raise TransitionNotAllowed(action, current)
