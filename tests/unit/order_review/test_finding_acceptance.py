"""Accepting review findings: the policy (which rule, which role), the reasons that fit, and
which findings an order still has once its acceptances are applied (a correction of what the
rule judged flags it again)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lvyue.common.contracts.order import CanonicalOrder
from lvyue.order_review.domain.rules import Finding, Reason, ReviewConfig, StockOutcome, review
from lvyue.order_review.domain.rules.acceptance import (
    NEVER_ACCEPTABLE,
    Acceptance,
    AcceptancePolicy,
    AcceptanceReason,
    AcceptanceRefused,
    ReasonDoesNotFit,
    check_reason,
    fingerprint,
    resolve,
)
from lvyue.order_review.settings import OrderReviewSettings

from .review_orders import make_order, with_address, with_receiver

AT = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)
CONFIG = ReviewConfig(blacklist_buyers=frozenset({"bad-buyer"}))
RESERVED = StockOutcome(reserved=True)


def accept(finding: Finding, order: CanonicalOrder, reason: AcceptanceReason) -> Acceptance:
    return Acceptance(
        rule=finding.reason, detail=finding.detail, reason=reason, note="", actor="cs-1",
        roles=("ops",), at=AT, fingerprint=fingerprint(finding, order),
    )  # fmt: skip


def findings_of(order: CanonicalOrder) -> list[Finding]:
    return review(order, CONFIG, stock=RESERVED)


def test_default_policy_lets_ops_accept_remark_payment_and_blacklist() -> None:
    policy = AcceptancePolicy()
    for rule in (Reason.REMARK_NEEDS_HUMAN, Reason.NOT_PAID, Reason.BLACKLISTED):
        policy.authorize(rule, {"ops"})


@pytest.mark.parametrize("rule", sorted(NEVER_ACCEPTABLE))
def test_rules_that_need_a_correction_are_never_accepted(rule: Reason) -> None:
    with pytest.raises(AcceptanceRefused, match="never accepted"):
        AcceptancePolicy().authorize(rule, {"ops", "sre", "warehouse", "platform"})
    with pytest.raises(ValueError, match="can never be accepted"):
        AcceptancePolicy({rule: frozenset({"ops"})})


def test_a_role_not_configured_for_the_rule_is_refused_naming_the_role_needed() -> None:
    policy = AcceptancePolicy({Reason.BLACKLISTED: frozenset({"sre"})})
    with pytest.raises(AcceptanceRefused, match="needs role sre"):
        policy.authorize(Reason.BLACKLISTED, {"ops"})
    with pytest.raises(AcceptanceRefused, match="not accepted by any role"):
        policy.authorize(Reason.NOT_PAID, {"ops"})
    with pytest.raises(AcceptanceRefused, match="needs role ops"):
        AcceptancePolicy().authorize(Reason.REMARK_NEEDS_HUMAN, {"warehouse"})


def test_a_reason_must_resolve_the_rule_and_other_needs_a_note() -> None:
    check_reason(Reason.NOT_PAID, AcceptanceReason.PAYMENT_CONFIRMED, "")
    check_reason(Reason.NOT_PAID, AcceptanceReason.OTHER, "paid by bank transfer, checked")
    with pytest.raises(ReasonDoesNotFit, match="does not resolve not_paid"):
        check_reason(Reason.NOT_PAID, AcceptanceReason.REMARK_HANDLED, "")
    with pytest.raises(ReasonDoesNotFit, match="needs a note"):
        check_reason(Reason.REMARK_NEEDS_HUMAN, AcceptanceReason.OTHER, "  ")


def test_accepted_findings_are_set_apart_and_the_rest_stay_open() -> None:
    order = make_order(remarks="请开发票", paid=False)
    unpaid, remark = findings_of(order)
    assert (unpaid.reason, remark.reason) == (Reason.NOT_PAID, Reason.REMARK_NEEDS_HUMAN)
    accepted = accept(remark, order, AcceptanceReason.REMARK_HANDLED)
    partly = resolve(findings_of(order), order, [accepted])
    assert partly.remaining == [unpaid]
    assert partly.accepted == [accepted]
    both = resolve(
        findings_of(order), order, [accepted, accept(unpaid, order, AcceptanceReason.OTHER)]
    )
    assert both.remaining == []


def test_no_acceptances_leave_every_finding_open() -> None:
    order = make_order(paid=False)
    assert resolve(findings_of(order), order, []).remaining == findings_of(order)


def test_a_new_remark_keyword_flags_again_after_an_acceptance() -> None:
    order = make_order(remarks="请开发票")
    [remark] = findings_of(order)
    accepted = accept(remark, order, AcceptanceReason.REMARK_HANDLED)
    changed = make_order(remarks="请开发票，另外要改地址")
    assert [f.reason for f in resolve(findings_of(changed), changed, [accepted]).remaining] == [
        Reason.REMARK_NEEDS_HUMAN
    ]


def test_a_blacklist_acceptance_survives_a_correction_of_what_did_not_match() -> None:
    order = make_order(buyer_id="bad-buyer")
    [blacklisted] = findings_of(order)
    accepted = accept(blacklisted, order, AcceptanceReason.BLACKLIST_FALSE_POSITIVE)
    # the address was not what matched: correcting it keeps the acceptance
    moved = with_address(order, detail="3 单元 502 室")
    assert resolve(findings_of(moved), moved, [accepted]).remaining == []
    # another buyer id on the blacklist is another finding
    other = make_order(buyer_id="bad-buyer", buyer_nick="bad-buyer")
    assert resolve(findings_of(other), other, [accepted]).remaining != []


def test_a_changed_phone_flags_a_phone_acceptance_again() -> None:
    order = with_receiver(phone="12345")
    [phone] = findings_of(order)
    accepted = accept(phone, order, AcceptanceReason.PHONE_CONFIRMED)
    assert resolve(findings_of(order), order, [accepted]).remaining == []
    changed = with_receiver(order, phone="54321")
    assert [f.reason for f in resolve(findings_of(changed), changed, [accepted]).remaining] == [
        Reason.PHONE_INVALID
    ]


def test_an_acceptance_round_trips_as_json() -> None:
    order = make_order(paid=False)
    [unpaid] = findings_of(order)
    accepted = accept(unpaid, order, AcceptanceReason.PAYMENT_CONFIRMED)
    assert Acceptance.from_json(accepted.to_json()) == accepted


def test_settings_refuse_a_never_acceptable_rule_and_build_the_configured_policy() -> None:
    with pytest.raises(ValueError, match="address_incomplete can never be accepted"):
        OrderReviewSettings(env="test", review_acceptance_roles={"address_incomplete": ["ops"]})
    settings = OrderReviewSettings(
        env="test", review_acceptance_roles={"blacklisted": ["sre"], "phone_invalid": ["ops"]}
    )
    policy = settings.acceptance_policy()
    policy.authorize(Reason.BLACKLISTED, {"sre"})
    policy.authorize(Reason.PHONE_INVALID, {"ops"})
    with pytest.raises(AcceptanceRefused):
        policy.authorize(Reason.REMARK_NEEDS_HUMAN, {"ops"})  # no longer configured
    assert OrderReviewSettings(env="test").acceptance_policy() == AcceptancePolicy()
