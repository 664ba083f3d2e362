"""What was ordered: SKUs the shop sells, positive quantities, and whether stock was reserved."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lvyue.common.contracts.order import CanonicalOrder

from .findings import Finding, Reason


@dataclass(frozen=True)
class StockOutcome:
    """The inventory service's answer for the order (all lines reserved, or none)."""

    reserved: bool
    short_skus: tuple[str, ...] = ()
    unknown_skus: tuple[str, ...] = ()


def _names(skus: Iterable[str]) -> str:
    return ", ".join(dict.fromkeys(skus))  # first-seen order, no repeats


def check_lines(order: CanonicalOrder, known_skus: frozenset[str] | None) -> list[Finding]:
    """UNKNOWN_SKU (only when known_skus is given) and INVALID_QUANTITY, naming the SKUs."""
    findings = []
    if known_skus is not None:
        unknown = [line.sku for line in order.lines if line.sku not in known_skus]
        if unknown:
            findings.append(Finding(Reason.UNKNOWN_SKU, f"unknown SKU: {_names(unknown)}"))
    # The contract refuses quantity < 1, but an order built with model_construct (tests, replays
    # of old events) is not validated; picking zero units must never reach the warehouse.
    invalid = [line.sku for line in order.lines if line.quantity <= 0]
    if invalid:
        findings.append(
            Finding(Reason.INVALID_QUANTITY, f"quantity must be positive: {_names(invalid)}")
        )
    return findings


def check_stock(stock: StockOutcome) -> list[Finding]:
    """UNKNOWN_SKU for SKUs the warehouse does not know, OUT_OF_STOCK when nothing was reserved."""
    findings = []
    if stock.unknown_skus:
        findings.append(
            Finding(Reason.UNKNOWN_SKU, f"unknown to the warehouse: {_names(stock.unknown_skus)}")
        )
    if stock.reserved:
        return findings
    if stock.short_skus:
        findings.append(Finding(Reason.OUT_OF_STOCK, f"short: {_names(stock.short_skus)}"))
    elif not stock.unknown_skus:
        # Not reserved without saying why: never let it pass as reviewed.
        findings.append(Finding(Reason.OUT_OF_STOCK, "stock not reserved"))
    return findings
