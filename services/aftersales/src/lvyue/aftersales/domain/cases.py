"""Aftersales' vocabulary and rules as pure functions: case types, reasons, lines, money."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

CENT = Decimal("0.01")


class CaseType(StrEnum):
    REFUND_ONLY = "refund_only"  # 仅退款
    RETURN_AND_REFUND = "return_and_refund"  # 退货退款
    EXCHANGE = "exchange"  # 换货


class Reason(StrEnum):
    """Why the buyer asks: the ledger groups by these codes."""

    QUALITY = "quality"
    DAMAGED_IN_TRANSIT = "damaged_in_transit"
    WRONG_ITEM = "wrong_item"
    NOT_AS_DESCRIBED = "not_as_described"
    CHANGED_MIND = "changed_mind"
    OTHER = "other"


class CaseState(StrEnum):
    REQUESTED = "requested"  # waiting for an operator's answer (aftersale_response_24h)
    REJECTED = "rejected"
    AWAITING_RETURN = "awaiting_return"  # approved; the goods are on their way back
    AWAITING_REFUND = "awaiting_refund"  # refund_48h runs
    REFUNDED = "refunded"
    # exchange: returned, the replacement is requested from fulfilment
    AWAITING_REPLACEMENT = "awaiting_replacement"
    COMPLETED = "completed"  # exchange: the replacement was dispatched


class Source(StrEnum):
    WEBHOOK = "webhook"
    OPERATOR = "operator"


RESPONSE_SLA = "aftersale_response_24h"
REFUND_SLA = "refund_48h"


@dataclass(frozen=True)
class CaseLine:
    """A line of a case, priced at what the order charged for the SKU (for the ledger's split)."""

    sku: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class ReturnLine:
    sku: str
    quantity: int
    sellable: bool


class RuleViolation(Exception):
    """A request the rules refuse; `rule` names which one."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


def quantities(lines: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Units per SKU: a SKU may appear on several lines."""
    totals: dict[str, int] = {}
    for sku, quantity in lines:
        totals[sku] = totals.get(sku, 0) + quantity
    return totals


def case_lines(
    requested: Iterable[tuple[str, int]], ordered: Mapping[str, tuple[int, Decimal]]
) -> tuple[CaseLine, ...]:
    """The requested lines, checked against the order: known SKUs, never more than bought."""
    lines = []
    for sku, quantity in sorted(quantities(requested).items()):
        if sku not in ordered:
            raise RuleViolation("line_in_order", f"sku {sku!r} is not in the order")
        bought, unit_price = ordered[sku]
        if quantity > bought:
            raise RuleViolation(
                "line_in_order", f"{quantity} × {sku!r} asked for, but the order has {bought}"
            )
        lines.append(CaseLine(sku, quantity, unit_price))
    return tuple(lines)


def returned_lines(
    received: Iterable[ReturnLine], expected: Iterable[CaseLine]
) -> tuple[ReturnLine, ...]:
    """What the warehouse received, checked against the case: its SKUs, at most its units."""
    wanted = quantities((ln.sku, ln.quantity) for ln in expected)
    got = list(received)
    for sku, quantity in quantities((ln.sku, ln.quantity) for ln in got).items():
        if sku not in wanted:
            raise RuleViolation("line_in_case", f"sku {sku!r} is not part of this case")
        if quantity > wanted[sku]:
            raise RuleViolation(
                "line_in_case", f"{quantity} × {sku!r} received, but the case has {wanted[sku]}"
            )
    return tuple(got)


def check_refundable(amount: Decimal, *, paid_total: Decimal, refunded: Decimal) -> None:
    """Never more than the buyer paid for the order, minus what was refunded before."""
    refundable = paid_total - refunded
    if amount > refundable:
        raise RuleViolation(
            "refundable",
            f"amount {amount} exceeds the refundable {refundable} "
            f"(paid {paid_total}, refunded before {refunded})",
        )


def split_amount(amount: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Splits an amount over weights in cents; the rounding remainder goes to the largest share.

    Zero weights (free items) split evenly.
    """
    if not weights:
        return []
    total = sum(weights, Decimal(0))
    if total <= 0:
        weights, total = [Decimal(1)] * len(weights), Decimal(len(weights))
    shares = [(amount * w / total).quantize(CENT) for w in weights]
    remainder = amount - sum(shares, Decimal(0))
    largest = max(range(len(shares)), key=lambda i: weights[i])
    shares[largest] += remainder
    return shares
