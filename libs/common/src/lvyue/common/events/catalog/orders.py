"""order-review's events: an order created, corrected, reviewed or flagged, a finding accepted, an
order cancelled or shipped, its receiver changed on the platform after review."""

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import AwareDatetime

from lvyue.common.contracts.order import CanonicalOrder, Receiver
from lvyue.common.events.catalog.base import Payload
from lvyue.common.events.catalog.inventory import StockLine
from lvyue.common.events.registry import register


class OrderCreated(Payload):
    """An order was accepted from a sales platform (intake is durable; review has not run yet)."""

    order_id: uuid.UUID
    received_at: AwareDatetime
    order: CanonicalOrder


class Priority(StrEnum):
    """Shipping priority (急单 and 大促 orders ship first)."""

    URGENT = "urgent"
    PROMOTION = "promotion"
    NORMAL = "normal"


class OrderUpdated(Payload):
    """An operator corrected the order's lines: stock is reserved again for the new lines."""

    order_id: uuid.UUID
    order: CanonicalOrder
    updated_at: AwareDatetime


class FindingAcceptance(Payload):
    """An operator accepted one review finding (rule): who, with which roles, why, when."""

    rule: str  # the review reason code, e.g. remark_needs_human, not_paid, blacklisted
    detail: str  # the finding as the operator saw it
    reason: str  # remark_handled, payment_confirmed, blacklist_false_positive, ...
    note: str = ""
    accepted_by: str  # the operator (X-Operator)
    roles: tuple[str, ...]  # the roles of the bearer token used
    accepted_at: AwareDatetime


class OrderReviewed(Payload):
    """The order passed review: ready to ship (待发货), stock reserved."""

    order_id: uuid.UUID
    warehouse_id: str
    priority: Priority
    promised_dispatch_at: AwareDatetime
    reviewed_at: AwareDatetime
    order: CanonicalOrder
    # The findings operators accepted to let it through (empty when every rule passed).
    accepted_findings: tuple[FindingAcceptance, ...] = ()


class FindingAccepted(Payload):
    """An operator accepted a finding of an abnormal order; `remaining` lists the findings still
    open: when it is empty the order is reviewed (order.reviewed follows)."""

    order_id: uuid.UUID
    acceptance: FindingAcceptance
    remaining: tuple[str, ...]


class OrderAbnormal(Payload):
    """The order failed review: every failing reason code, for the abnormal queue."""

    order_id: uuid.UUID
    reasons: tuple[str, ...]
    flagged_at: AwareDatetime


class OrderCancelled(Payload):
    order_id: uuid.UUID
    reason: str
    cancelled_at: AwareDatetime


class CancelAfterDispatch(Payload):
    """The platform cancelled (or refunded) an order lvyue had already dispatched: the parcel is
    on its way, so it is an after-sale matter (aftersales opens a return-and-refund case)."""

    order_id: uuid.UUID
    platform: str
    reason: str
    requested_at: AwareDatetime


class OrderReceiverChanged(Payload):
    """The buyer changed the receiver on the platform after review (the order's shipment is
    requested already): fulfilment tells the warehouse, unless the parcel has left."""

    order_id: uuid.UUID
    receiver: Receiver
    platform: str
    changed_at: AwareDatetime


class OrderShipped(Payload):
    """Produced by fulfilment once the warehouse dispatched the parcel; inventory deducts."""

    order_id: uuid.UUID
    warehouse_id: str
    lines: tuple[StockLine, ...]
    carrier: str
    tracking_number: str
    dispatched_at: AwareDatetime


ORDER_CREATED = register(
    "order.created", OrderCreated, description="An order was accepted; key = order id."
)


ORDER_UPDATED = register("order.updated", OrderUpdated, description="Lines corrected.")


ORDER_REVIEWED = register("order.reviewed", OrderReviewed, description="Ready to ship.")


ORDER_ABNORMAL = register("order.abnormal", OrderAbnormal, description="Failed review.")


ORDER_FINDING_ACCEPTED = register(
    "order.finding_accepted",
    FindingAccepted,
    description="An operator accepted a finding of an abnormal order; key = order id.",
)


ORDER_CANCELLED = register("order.cancelled", OrderCancelled, description="Cancelled.")


ORDER_SHIPPED = register("order.shipped", OrderShipped, description="Dispatched.")


ORDER_CANCEL_AFTER_DISPATCH = register(
    "order.cancel_after_dispatch",
    CancelAfterDispatch,
    description="The platform cancelled an order after its dispatch; key = order id.",
)


ORDER_RECEIVER_CHANGED = register(
    "order.receiver_changed",
    OrderReceiverChanged,
    description="The buyer changed the receiver after review; key = order id.",
)
