"""Free-text remarks that ask for something only a person can decide."""

from __future__ import annotations

from lvyue.common.contracts.order import CanonicalOrder

from .findings import Finding, Reason, ReviewConfig


def check_remarks(order: CanonicalOrder, config: ReviewConfig) -> Finding | None:
    """REMARK_NEEDS_HUMAN when the remarks contain a configured keyword (case-insensitive)."""
    text = order.remarks.casefold()
    matched = [k for k in config.remark_keywords if k.strip() and k.casefold() in text]
    if not matched:
        return None
    return Finding(Reason.REMARK_NEEDS_HUMAN, "remark mentions: " + ", ".join(matched))
