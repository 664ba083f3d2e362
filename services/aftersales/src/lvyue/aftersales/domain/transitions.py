"""The after-sale state machine in one table: which action moves which case from where to where.

    refund_only:        requested ─approve→ awaiting_refund ─refund→ refunded
    return_and_refund:  requested ─approve→ awaiting_return ─receive_return→ awaiting_refund
                                                            ─refund→ refunded
    exchange:           requested ─approve→ awaiting_return ─receive_return→ awaiting_replacement
                                                            ─ship_replacement→ completed
    any type:           requested ─reject→ rejected

ship_replacement has no endpoint: fulfilment's aftersale.replacement_dispatched event does it.

An action already done (the case is at or past its target on its type's path) is a repeat:
the endpoints answer 200, the event handler skips it, and nothing changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from lvyue.aftersales.domain.cases import CaseState, CaseType


class Action(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    RECEIVE_RETURN = "receive the return of"
    REFUND = "refund"
    SHIP_REPLACEMENT = "record the replacement dispatch of"


S, T, A = CaseState, CaseType, Action

TRANSITIONS: Mapping[tuple[CaseType, Action, CaseState], CaseState] = MappingProxyType(
    {
        (T.REFUND_ONLY, A.APPROVE, S.REQUESTED): S.AWAITING_REFUND,
        (T.RETURN_AND_REFUND, A.APPROVE, S.REQUESTED): S.AWAITING_RETURN,
        (T.EXCHANGE, A.APPROVE, S.REQUESTED): S.AWAITING_RETURN,
        (T.REFUND_ONLY, A.REJECT, S.REQUESTED): S.REJECTED,
        (T.RETURN_AND_REFUND, A.REJECT, S.REQUESTED): S.REJECTED,
        (T.EXCHANGE, A.REJECT, S.REQUESTED): S.REJECTED,
        (T.RETURN_AND_REFUND, A.RECEIVE_RETURN, S.AWAITING_RETURN): S.AWAITING_REFUND,
        (T.EXCHANGE, A.RECEIVE_RETURN, S.AWAITING_RETURN): S.AWAITING_REPLACEMENT,
        (T.EXCHANGE, A.SHIP_REPLACEMENT, S.AWAITING_REPLACEMENT): S.COMPLETED,
        (T.REFUND_ONLY, A.REFUND, S.AWAITING_REFUND): S.REFUNDED,
        (T.RETURN_AND_REFUND, A.REFUND, S.AWAITING_REFUND): S.REFUNDED,
    }
)

# Each type's happy path, in order; rejected branches off `requested`.
PATHS: Mapping[CaseType, tuple[CaseState, ...]] = MappingProxyType(
    {
        T.REFUND_ONLY: (S.REQUESTED, S.AWAITING_REFUND, S.REFUNDED),
        T.RETURN_AND_REFUND: (S.REQUESTED, S.AWAITING_RETURN, S.AWAITING_REFUND, S.REFUNDED),
        T.EXCHANGE: (S.REQUESTED, S.AWAITING_RETURN, S.AWAITING_REPLACEMENT, S.COMPLETED),
    }
)


class TransitionNotAllowed(Exception):
    def __init__(self, case_type: CaseType, action: Action, current: CaseState) -> None:
        self.action = action
        self.current = current
        allowed = sorted(s for (t, a, s) in TRANSITIONS if t == case_type and a == action)
        when = f"allowed when: {', '.join(allowed)}" if allowed else f"never for {case_type} cases"
        super().__init__(f"case is {current}: cannot {action} it ({when})")


def already_done(case_type: CaseType, action: Action, current: CaseState) -> bool:
    """Whether `action` happened to this case before: a repeated request changes nothing."""
    targets = [to for (t, a, _), to in TRANSITIONS.items() if t == case_type and a == action]
    if not targets:
        return False
    target = targets[0]
    if target is S.REJECTED or current is S.REJECTED:
        return current is target
    path = PATHS[case_type]
    return path.index(current) >= path.index(target)


def next_state(case_type: CaseType, action: Action, current: CaseState) -> CaseState:
    """The state `action` moves the case to; TransitionNotAllowed names the current state."""
    try:
        return TRANSITIONS[(case_type, action, current)]
    except KeyError:
        raise TransitionNotAllowed(case_type, action, current) from None
