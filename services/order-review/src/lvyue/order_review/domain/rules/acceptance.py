"""Operators accepting review findings: which finding may be accepted, by whom, for what reason,
and which findings an order still has once its acceptances are applied. Pure, no I/O.

An acceptance covers the finding as the operator saw it: its rule, its detail and the content
the rule looked at (the remark for a remark, the phone for a phone, the buyer, phone or address
that matched a blacklist). A correction that changes that content makes it a new finding, which
flags the order again; a correction of anything else leaves the acceptance standing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from lvyue.common.contracts.order import CanonicalOrder

from .findings import Finding, Reason


class AcceptanceReason(StrEnum):
    """Why an operator lets a finding through."""

    REMARK_HANDLED = "remark_handled"  # remark read and handled (invoice issued, buyer told...)
    PAYMENT_CONFIRMED = "payment_confirmed"  # payment confirmed on the platform
    BLACKLIST_FALSE_POSITIVE = "blacklist_false_positive"
    PHONE_CONFIRMED = "phone_confirmed"  # the receiver was reached on that number
    OTHER = "other"  # anything else: the note says what


# Rules that are never accepted, whatever the configuration: the order must be corrected
# (address, lines) or the stock is not there; letting it through would ship a parcel that
# cannot arrive or was never reserved.
NEVER_ACCEPTABLE: frozenset[Reason] = frozenset(
    {Reason.ADDRESS_INCOMPLETE, Reason.UNKNOWN_SKU, Reason.INVALID_QUANTITY, Reason.OUT_OF_STOCK}
)

# The reasons that fit each rule; OTHER fits every rule but needs a note.
FITTING_REASONS: Mapping[Reason, frozenset[AcceptanceReason]] = MappingProxyType(
    {
        Reason.REMARK_NEEDS_HUMAN: frozenset({AcceptanceReason.REMARK_HANDLED}),
        Reason.NOT_PAID: frozenset({AcceptanceReason.PAYMENT_CONFIRMED}),
        Reason.BLACKLISTED: frozenset({AcceptanceReason.BLACKLIST_FALSE_POSITIVE}),
        Reason.PHONE_INVALID: frozenset({AcceptanceReason.PHONE_CONFIRMED}),
    }
)

# Who may accept what, unless configured otherwise (LVYUE_REVIEW_ACCEPTANCE_ROLES).
DEFAULT_ACCEPTANCE_ROLES: Mapping[Reason, frozenset[str]] = MappingProxyType(
    {
        Reason.REMARK_NEEDS_HUMAN: frozenset({"ops"}),
        Reason.NOT_PAID: frozenset({"ops"}),
        Reason.BLACKLISTED: frozenset({"ops"}),
    }
)


class AcceptanceRefused(Exception):
    """The policy refuses the acceptance: the rule is never accepted, or not by these roles."""


class ReasonDoesNotFit(ValueError):
    """The acceptance reason does not resolve the rule, or `other` came without a note."""


@dataclass(frozen=True)
class AcceptancePolicy:
    """Which findings may be accepted, and by which roles (a role name per bearer role)."""

    roles: Mapping[Reason, frozenset[str]] = field(default_factory=lambda: DEFAULT_ACCEPTANCE_ROLES)

    def __post_init__(self) -> None:
        never = sorted(
            rule for rule, roles in self.roles.items() if roles and rule in NEVER_ACCEPTABLE
        )
        if never:
            raise ValueError(
                f"{', '.join(never)} can never be accepted (correct the order instead); "
                "remove it from the acceptance roles"
            )

    def authorize(self, rule: Reason, granted: Iterable[str]) -> None:
        """Raises AcceptanceRefused unless one of the granted roles may accept the rule."""
        if rule in NEVER_ACCEPTABLE:
            raise AcceptanceRefused(
                f"{rule} is never accepted: correct the order (POST /orders/{{id}}/corrections) "
                "or cancel it"
            )
        allowed = self.roles.get(rule, frozenset())
        if not allowed:
            raise AcceptanceRefused(f"{rule} is not accepted by any role in this deployment")
        if not allowed & set(granted):
            needed = " or ".join(sorted(allowed))
            raise AcceptanceRefused(f"accepting {rule} needs role {needed}")


def check_reason(rule: Reason, reason: AcceptanceReason, note: str) -> None:
    """Raises ReasonDoesNotFit unless the reason resolves the rule (`other` needs a note)."""
    if reason is AcceptanceReason.OTHER:
        if not note.strip():
            raise ReasonDoesNotFit("reason other needs a note saying why")
        return
    fitting = FITTING_REASONS.get(rule, frozenset())
    if reason not in fitting:
        expected = " or ".join(sorted({*fitting, AcceptanceReason.OTHER}))
        raise ReasonDoesNotFit(f"{reason} does not resolve {rule}; give {expected}")


@dataclass(frozen=True)
class Acceptance:
    """An operator's acceptance of one finding: what, why, who and when."""

    rule: Reason
    detail: str  # the finding's detail when it was accepted
    reason: AcceptanceReason
    note: str
    actor: str  # the operator (X-Operator)
    roles: tuple[str, ...]  # the bearer token's roles
    at: datetime
    fingerprint: str  # what the rule looked at, hashed: see fingerprint()

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": str(self.rule),
            "detail": self.detail,
            "reason": str(self.reason),
            "note": self.note,
            "actor": self.actor,
            "roles": list(self.roles),
            "at": self.at.isoformat(),
            "fingerprint": self.fingerprint,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Acceptance:
        return cls(
            rule=Reason(data["rule"]),
            detail=data["detail"],
            reason=AcceptanceReason(data["reason"]),
            note=data.get("note", ""),
            actor=data["actor"],
            roles=tuple(data.get("roles", ())),
            at=datetime.fromisoformat(data["at"]),
            fingerprint=data["fingerprint"],
        )


def _looked_at(finding: Finding, order: CanonicalOrder) -> list[Any]:
    """The content of the order the finding's rule judged."""
    receiver = order.receiver
    if finding.reason is Reason.REMARK_NEEDS_HUMAN:
        return [order.remarks]
    if finding.reason is Reason.PHONE_INVALID:
        return [receiver.phone]
    if finding.reason is Reason.NOT_PAID:
        return [order.paid]
    if finding.reason is Reason.BLACKLISTED:
        # only the lists that matched (the detail names them): fixing another field keeps it
        content: list[Any] = []
        if "buyer" in finding.detail:
            content += [order.buyer_id, order.buyer_nick]
        if "phone" in finding.detail:
            content.append(receiver.phone)
        if "address" in finding.detail:
            content.append(receiver.address.model_dump(mode="json"))
        return content
    return []


def fingerprint(finding: Finding, order: CanonicalOrder) -> str:
    """A digest of the finding and the content its rule judged (no personal data in clear)."""
    material = [str(finding.reason), finding.detail, _looked_at(finding, order)]
    encoded = json.dumps(material, ensure_ascii=False, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()


def covering(
    finding: Finding, order: CanonicalOrder, acceptances: Sequence[Acceptance]
) -> Acceptance | None:
    """The acceptance that covers this finding of this order, if any (the latest one)."""
    same_rule = [a for a in acceptances if a.rule == finding.reason]
    if not same_rule:
        return None
    digest = fingerprint(finding, order)
    return next((a for a in reversed(same_rule) if a.fingerprint == digest), None)


@dataclass(frozen=True)
class Resolution:
    """An order's findings split: those still open, and those accepted (with their acceptance)."""

    remaining: list[Finding]
    accepted: list[Acceptance]


def resolve(
    findings: Sequence[Finding], order: CanonicalOrder, acceptances: Sequence[Acceptance]
) -> Resolution:
    """Which findings still need an operator once the order's acceptances are applied."""
    if not acceptances:
        return Resolution(list(findings), [])
    remaining: list[Finding] = []
    accepted: list[Acceptance] = []
    for finding in findings:
        acceptance = covering(finding, order, acceptances)
        if acceptance is None:
            remaining.append(finding)
        else:
            accepted.append(acceptance)
    return Resolution(remaining, accepted)
