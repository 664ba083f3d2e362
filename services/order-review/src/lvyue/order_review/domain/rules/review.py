"""The whole review of one order: every check, every failure, and the shipping priority."""

from __future__ import annotations

from lvyue.common.contracts.order import CanonicalOrder
from lvyue.common.events.catalog import Priority

from .address import check_address
from .contact import check_blacklist, check_phone
from .findings import Finding, Reason, ReviewConfig
from .goods import StockOutcome, check_lines, check_stock
from .remarks import check_remarks

_REASON_RANK = {reason: rank for rank, reason in enumerate(Reason)}


def check_paid(order: CanonicalOrder) -> Finding | None:
    """NOT_PAID unless the platform confirmed the payment."""
    return None if order.paid else Finding(Reason.NOT_PAID, "payment not confirmed")


def review(
    order: CanonicalOrder,
    config: ReviewConfig,
    *,
    stock: StockOutcome,
    known_skus: frozenset[str] | None = None,
) -> list[Finding]:
    """Every failing finding, one per reason in Reason order; empty means ready to ship."""
    single = (
        check_address(order),
        check_phone(order, config),
        check_paid(order),
        check_remarks(order, config),
        check_blacklist(order, config),
    )
    found = [f for f in single if f is not None]
    found += check_lines(order, known_skus) + check_stock(stock)
    # The same reason can come from two checks (unknown SKU from the catalogue and the
    # warehouse): the operator gets one finding per reason with both details.
    details: dict[Reason, list[str]] = {}
    for finding in found:
        details.setdefault(finding.reason, []).append(finding.detail)
    return [
        Finding(reason, "; ".join(parts))
        for reason, parts in sorted(details.items(), key=lambda item: _REASON_RANK[item[0]])
    ]


def priority(order: CanonicalOrder) -> Priority:
    """URGENT beats PROMOTION beats NORMAL (急单 and 大促 ship first)."""
    if order.urgent:
        return Priority.URGENT
    if order.promotion:
        return Priority.PROMOTION
    return Priority.NORMAL
