"""The after-sale state machine: each type's path, repeats, and refusals naming the state."""

from __future__ import annotations

import pytest

from lvyue.aftersales.domain import CaseState as S
from lvyue.aftersales.domain import CaseType as T
from lvyue.aftersales.domain.transitions import (
    PATHS,
    TRANSITIONS,
    Action,
    TransitionNotAllowed,
    already_done,
    next_state,
)

A = Action


@pytest.mark.parametrize(
    ("case_type", "steps"),
    [
        (T.REFUND_ONLY, [A.APPROVE, A.REFUND]),
        (T.RETURN_AND_REFUND, [A.APPROVE, A.RECEIVE_RETURN, A.REFUND]),
        (T.EXCHANGE, [A.APPROVE, A.RECEIVE_RETURN, A.SHIP_REPLACEMENT]),
    ],
)
def test_each_type_walks_its_path(case_type: T, steps: list[Action]) -> None:
    state = S.REQUESTED
    seen = [state]
    for action in steps:
        state = next_state(case_type, action, state)
        seen.append(state)
    assert tuple(seen) == PATHS[case_type]


def test_every_type_can_be_rejected_only_while_requested() -> None:
    for case_type in T:
        assert next_state(case_type, A.REJECT, S.REQUESTED) is S.REJECTED
        with pytest.raises(TransitionNotAllowed) as refused:
            next_state(case_type, A.REJECT, PATHS[case_type][1])
        assert refused.value.current is PATHS[case_type][1]


def test_a_refusal_names_the_current_state_and_when_it_would_be_allowed() -> None:
    with pytest.raises(TransitionNotAllowed, match=r"case is requested: cannot refund it"):
        next_state(T.REFUND_ONLY, A.REFUND, S.REQUESTED)
    with pytest.raises(TransitionNotAllowed, match=r"never for refund_only cases"):
        next_state(T.REFUND_ONLY, A.RECEIVE_RETURN, S.AWAITING_REFUND)
    with pytest.raises(TransitionNotAllowed, match=r"never for exchange cases"):
        next_state(T.EXCHANGE, A.REFUND, S.COMPLETED)
    with pytest.raises(TransitionNotAllowed, match=r"never for exchange cases"):
        next_state(T.EXCHANGE, A.REFUND, S.AWAITING_REPLACEMENT)


def test_an_exchange_completes_only_once_its_replacement_is_dispatched() -> None:
    assert next_state(T.EXCHANGE, A.RECEIVE_RETURN, S.AWAITING_RETURN) is S.AWAITING_REPLACEMENT
    assert next_state(T.EXCHANGE, A.SHIP_REPLACEMENT, S.AWAITING_REPLACEMENT) is S.COMPLETED
    with pytest.raises(
        TransitionNotAllowed,
        match=r"case is awaiting_return: cannot record the replacement dispatch of it "
        r"\(allowed when: awaiting_replacement\)",
    ):
        next_state(T.EXCHANGE, A.SHIP_REPLACEMENT, S.AWAITING_RETURN)
    for case_type in (T.REFUND_ONLY, T.RETURN_AND_REFUND):
        with pytest.raises(TransitionNotAllowed, match=f"never for {case_type} cases"):
            next_state(case_type, A.SHIP_REPLACEMENT, S.AWAITING_REFUND)


def test_an_action_done_before_is_a_repeat_and_a_rejection_is_never_an_approval() -> None:
    assert already_done(T.RETURN_AND_REFUND, A.APPROVE, S.AWAITING_REFUND)
    assert already_done(T.RETURN_AND_REFUND, A.RECEIVE_RETURN, S.REFUNDED)
    assert not already_done(T.RETURN_AND_REFUND, A.REFUND, S.AWAITING_REFUND)
    assert already_done(T.EXCHANGE, A.REJECT, S.REJECTED)
    assert not already_done(T.EXCHANGE, A.APPROVE, S.REJECTED)
    assert not already_done(T.EXCHANGE, A.REJECT, S.AWAITING_RETURN)
    assert not already_done(T.REFUND_ONLY, A.RECEIVE_RETURN, S.REFUNDED)


def test_a_replacement_dispatch_is_a_repeat_only_once_the_exchange_is_completed() -> None:
    assert already_done(T.EXCHANGE, A.SHIP_REPLACEMENT, S.COMPLETED)
    assert not already_done(T.EXCHANGE, A.SHIP_REPLACEMENT, S.AWAITING_REPLACEMENT)
    assert not already_done(T.EXCHANGE, A.SHIP_REPLACEMENT, S.AWAITING_RETURN)
    assert not already_done(T.EXCHANGE, A.SHIP_REPLACEMENT, S.REJECTED)
    assert not already_done(T.RETURN_AND_REFUND, A.SHIP_REPLACEMENT, S.REFUNDED)
    # a second return-received while the replacement is on its way, or after, changes nothing
    assert already_done(T.EXCHANGE, A.RECEIVE_RETURN, S.AWAITING_REPLACEMENT)
    assert already_done(T.EXCHANGE, A.RECEIVE_RETURN, S.COMPLETED)


def test_every_transition_target_lies_on_its_types_path_or_is_rejected() -> None:
    for (case_type, _, source), target in TRANSITIONS.items():
        path = PATHS[case_type]
        assert source in path
        assert target is S.REJECTED or path.index(target) == path.index(source) + 1
