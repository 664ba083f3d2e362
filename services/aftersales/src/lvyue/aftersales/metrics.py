"""Aftersales' Prometheus metrics (deadline metrics come from the kernel); no ids in labels."""

from __future__ import annotations

from decimal import Decimal

from prometheus_client import Counter

CASES = Counter("lvyue_aftersales_cases_total", "After-sale cases opened", ["type", "reason"])
REFUNDS = Counter("lvyue_aftersales_refunds_total", "Refunds paid")
REFUND_AMOUNT = Counter("lvyue_aftersales_refund_amount_total", "Money refunded, in yuan")


def record_case(case_type: str, reason: str) -> None:
    CASES.labels(case_type, reason).inc()


def record_refund(amount: Decimal, currency: str) -> None:
    REFUNDS.inc()
    if currency == "CNY":  # the counter's unit is the yuan; other currencies are not added up
        REFUND_AMOUNT.inc(float(amount))
