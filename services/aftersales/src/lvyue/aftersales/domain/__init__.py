"""Aftersales' domain: the case vocabulary and rules (cases.py) and the state machine
(transitions.py), pure functions without I/O."""

from lvyue.aftersales.domain.cases import (
    CENT,
    REFUND_SLA,
    RESPONSE_SLA,
    CaseLine,
    CaseState,
    CaseType,
    Reason,
    ReturnLine,
    RuleViolation,
    Source,
    case_lines,
    check_refundable,
    quantities,
    returned_lines,
    split_amount,
)

__all__ = [
    "CENT",
    "REFUND_SLA",
    "RESPONSE_SLA",
    "CaseLine",
    "CaseState",
    "CaseType",
    "Reason",
    "ReturnLine",
    "RuleViolation",
    "Source",
    "case_lines",
    "check_refundable",
    "quantities",
    "returned_lines",
    "split_amount",
]
