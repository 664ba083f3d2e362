"""Why a command refused: each maps to one HTTP answer (see api/errors.py)."""

from __future__ import annotations

import uuid


class CaseNotFound(LookupError):
    def __init__(self, case_id: uuid.UUID) -> None:
        super().__init__(f"after-sale case {case_id} not found")


class OrderNotFound(LookupError):
    """Aftersales has not heard of the order (order.reviewed) yet, or never will."""

    def __init__(self, order: str) -> None:
        super().__init__(f"order {order} not found: aftersales knows reviewed and shipped orders")


class OrderNotShipped(Exception):
    """Known but not dispatched: that is a cancellation, not an after-sale case."""

    def __init__(self, order_id: uuid.UUID) -> None:
        self.order_id = order_id
        super().__init__(
            f"order {order_id} has not shipped yet: cancel it before dispatch with "
            f"POST /orders/{order_id}/cancel on order-review"
        )


class RefundConflict(Exception):
    """The case was refunded already, under another reference or amount."""

    def __init__(self, case_id: uuid.UUID, reference: str, amount: str) -> None:
        super().__init__(
            f"case {case_id} is refunded already (reference {reference!r}, amount {amount})"
        )
