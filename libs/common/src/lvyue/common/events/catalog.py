"""The event catalogue: every event type lvyue produces, with its payload model and version."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from lvyue.common.contracts.order import CanonicalOrder, Money, OrderLine, Receiver
from lvyue.common.events.registry import register


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True)


class OrderCreated(_Payload):
    """An order was accepted from a sales platform (intake is durable; review has not run yet)."""

    order_id: uuid.UUID
    received_at: AwareDatetime
    order: CanonicalOrder


class SlaBreached(_Payload):
    """A deadline passed without being closed: published once per deadline."""

    deadline_id: uuid.UUID
    sla: str
    subject: str
    service: str
    opened_at: AwareDatetime
    due_at: AwareDatetime
    breached_at: AwareDatetime


class Priority(StrEnum):
    """Shipping priority (急单 and 大促 orders ship first)."""

    URGENT = "urgent"
    PROMOTION = "promotion"
    NORMAL = "normal"


class StockLine(_Payload):
    sku: str
    quantity: int = Field(gt=0)


class ShortSku(_Payload):
    """A SKU the warehouse has, but not enough of (unknown SKUs are listed apart)."""

    sku: str
    requested: int
    available: int


class InventoryReserved(_Payload):
    """Every line of the order is reserved (all or none)."""

    order_id: uuid.UUID
    warehouse_id: str
    lines: tuple[StockLine, ...]
    reserved_at: AwareDatetime


class InventoryRejected(_Payload):
    """Nothing was reserved: some SKUs are short or unknown."""

    order_id: uuid.UUID
    warehouse_id: str
    short: tuple[ShortSku, ...]
    unknown_skus: tuple[str, ...] = ()
    rejected_at: AwareDatetime


class OrderUpdated(_Payload):
    """An operator corrected the order's lines: stock is reserved again for the new lines."""

    order_id: uuid.UUID
    order: CanonicalOrder
    updated_at: AwareDatetime


class FindingAcceptance(_Payload):
    """An operator accepted one review finding (rule): who, with which roles, why, when."""

    rule: str  # the review reason code, e.g. remark_needs_human, not_paid, blacklisted
    detail: str  # the finding as the operator saw it
    reason: str  # remark_handled, payment_confirmed, blacklist_false_positive, ...
    note: str = ""
    accepted_by: str  # the operator (X-Operator)
    roles: tuple[str, ...]  # the roles of the bearer token used
    accepted_at: AwareDatetime


class OrderReviewed(_Payload):
    """The order passed review: ready to ship (待发货), stock reserved."""

    order_id: uuid.UUID
    warehouse_id: str
    priority: Priority
    promised_dispatch_at: AwareDatetime
    reviewed_at: AwareDatetime
    order: CanonicalOrder
    # The findings operators accepted to let it through (empty when every rule passed).
    accepted_findings: tuple[FindingAcceptance, ...] = ()


class FindingAccepted(_Payload):
    """An operator accepted a finding of an abnormal order; `remaining` lists the findings still
    open: when it is empty the order is reviewed (order.reviewed follows)."""

    order_id: uuid.UUID
    acceptance: FindingAcceptance
    remaining: tuple[str, ...]


class OrderAbnormal(_Payload):
    """The order failed review: every failing reason code, for the abnormal queue."""

    order_id: uuid.UUID
    reasons: tuple[str, ...]
    flagged_at: AwareDatetime


class OrderCancelled(_Payload):
    order_id: uuid.UUID
    reason: str
    cancelled_at: AwareDatetime


class OrderShipped(_Payload):
    """Produced by fulfilment once the warehouse dispatched the parcel; inventory deducts."""

    order_id: uuid.UUID
    warehouse_id: str
    lines: tuple[StockLine, ...]
    carrier: str
    tracking_number: str
    dispatched_at: AwareDatetime


class ReturnedLine(_Payload):
    sku: str
    quantity: int = Field(gt=0)
    sellable: bool


class ReturnReceived(_Payload):
    """Produced by aftersales: returned goods arrived; sellable ones go back to stock."""

    aftersale_id: uuid.UUID
    order_id: uuid.UUID
    warehouse_id: str
    lines: tuple[ReturnedLine, ...]
    received_at: AwareDatetime


class LowStock(_Payload):
    """Available stock fell below the SKU's safety threshold (once per crossing)."""

    sku: str
    warehouse_id: str
    available: int
    threshold: int
    suggested_replenishment: int


class SlowMoving(_Payload):
    """No sale of the SKU for the configured number of consecutive days."""

    sku: str
    warehouse_id: str
    last_sale_at: datetime | None
    days_without_sale: int


class ShipmentRequested(_Payload):
    """Contract v1 for warehouse systems: ship this order, in priority order, by due_at.

    Key = order id. Warehouses pick by (priority, due_at); `outbound_due_at` is the 24 h
    outbound promise, `due_at` the dispatch cut-off (16:00 rule).
    """

    shipment_id: uuid.UUID
    order_id: uuid.UUID
    warehouse_id: str
    platform: str
    shop_id: str
    platform_order_id: str
    priority: Priority
    receiver: Receiver
    lines: tuple[OrderLine, ...]
    remarks: str = ""
    due_at: AwareDatetime
    outbound_due_at: AwareDatetime
    requested_at: AwareDatetime
    # Set on an exchange's replacement: a second parcel for an order already shipped once.
    aftersale_id: uuid.UUID | None = None


class ShipmentCancelled(_Payload):
    """Do not ship: the order (or an exchange's replacement) was cancelled before dispatch."""

    shipment_id: uuid.UUID
    order_id: uuid.UUID
    warehouse_id: str
    reason: str
    cancelled_at: AwareDatetime
    aftersale_id: uuid.UUID | None = None  # set when the replacement of an exchange is stopped


class WarehouseDispatched(_Payload):
    """From a warehouse system: the parcel left with the carrier (same as the dispatch API)."""

    shipment_id: uuid.UUID
    carrier_code: str = Field(min_length=1, max_length=32)
    tracking_number: str = Field(min_length=1, max_length=64)
    dispatched_at: AwareDatetime


class ShipmentDelayed(_Payload):
    """No carrier scan for the configured time; `lost` once the longer limit passes."""

    shipment_id: uuid.UUID
    order_id: uuid.UUID
    warehouse_id: str
    carrier_code: str
    tracking_number: str
    last_scan_at: AwareDatetime | None
    lost: bool
    detected_at: AwareDatetime


ORDER_CREATED = register(
    "order.created", OrderCreated, description="An order was accepted; key = order id."
)
SLA_BREACHED = register(
    "sla.breached", SlaBreached, description="A deadline was breached; key = its subject."
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
INVENTORY_RESERVED = register(
    "inventory.reserved", InventoryReserved, description="All lines reserved."
)
INVENTORY_REJECTED = register(
    "inventory.rejected", InventoryRejected, description="Not reserved: short or unknown SKUs."
)
INVENTORY_LOW_STOCK = register(
    "inventory.low_stock", LowStock, description="Below the safety threshold; key = SKU."
)
INVENTORY_SLOW_MOVING = register(
    "inventory.slow_moving", SlowMoving, description="No sale for N days; key = SKU."
)
AFTERSALE_RETURN_RECEIVED = register(
    "aftersale.return_received", ReturnReceived, description="Returned goods arrived."
)
SHIPMENT_REQUESTED = register(
    "shipment.requested", ShipmentRequested, description="To warehouse systems: ship this."
)
SHIPMENT_CANCELLED = register(
    "shipment.cancelled", ShipmentCancelled, description="To warehouse systems: do not ship."
)
WAREHOUSE_DISPATCHED = register(
    "warehouse.dispatched", WarehouseDispatched, description="From warehouse systems: shipped."
)
SHIPMENT_DELAYED = register(
    "shipment.delayed", ShipmentDelayed, description="No carrier scan for too long (or lost)."
)


# --- aftersales -------------------------------------------------------------------------------
SignedAmount = Annotated[Decimal, Field(max_digits=15, decimal_places=2)]
"""A change between two amounts: may be negative, always 2 decimal places."""


class AftersaleRefunded(_Payload):
    """Produced by aftersales: the buyer's money went back (refund_48h closes with it)."""

    aftersale_id: uuid.UUID
    order_id: uuid.UUID
    platform: str
    shop_id: str
    platform_order_id: str
    aftersale_type: str
    reason: str
    refund_reference: str
    amount: Money
    currency: str
    refunded_at: AwareDatetime


class ReplacementRequested(_Payload):
    """Produced by aftersales for fulfilment: ship the replacement of an exchanged item."""

    aftersale_id: uuid.UUID
    order_id: uuid.UUID
    warehouse_id: str
    platform: str
    shop_id: str
    platform_order_id: str
    lines: tuple[OrderLine, ...]
    receiver: Receiver
    requested_at: AwareDatetime


class ReplacementDispatched(_Payload):
    """Produced by fulfilment: an exchange's replacement left the warehouse.

    Not an order.shipped: the order shipped once already; inventory deducts the replacement's
    own reservation and aftersales completes the exchange.
    """

    aftersale_id: uuid.UUID
    shipment_id: uuid.UUID
    order_id: uuid.UUID
    warehouse_id: str
    lines: tuple[StockLine, ...]
    carrier: str
    tracking_number: str
    dispatched_at: AwareDatetime


class LedgerFigures(_Payload):
    """One ledger row: cases opened and refunds paid in the week, and the change since the last."""

    cases: int
    units: int
    refunds: int
    refund_amount: SignedAmount
    previous_cases: int
    previous_refund_amount: SignedAmount
    cases_change: int
    refund_amount_change: SignedAmount


class LedgerEntry(LedgerFigures):
    key: str  # a reason code, a SKU or a platform slug


class LedgerIssue(LedgerFigures):
    """A (SKU, reason) pair: what product and supply chain should look at first."""

    sku: str
    reason: str


class AftersalesLedger(_Payload):
    """The weekly after-sale issue ledger (rule aftersale_ledger) for one ISO week."""

    week: str  # ISO week, e.g. "2026-W47", in the business timezone
    previous_week: str
    timezone: str
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    totals: LedgerFigures
    by_reason: tuple[LedgerEntry, ...]
    by_sku: tuple[LedgerEntry, ...]
    by_platform: tuple[LedgerEntry, ...]
    top_issues: tuple[LedgerIssue, ...]
    generated_at: AwareDatetime


class LedgerPublished(_Payload):
    """The week's ledger, published once after the week ends; key = the week."""

    ledger: AftersalesLedger
    published_at: AwareDatetime


AFTERSALE_REFUNDED = register(
    "aftersale.refunded", AftersaleRefunded, description="Refund paid; key = order id."
)
AFTERSALE_REPLACEMENT_REQUESTED = register(
    "aftersale.replacement_requested",
    ReplacementRequested,
    description="To fulfilment: ship an exchange's replacement; key = order id.",
)
AFTERSALE_REPLACEMENT_DISPATCHED = register(
    "aftersale.replacement_dispatched",
    ReplacementDispatched,
    description="From fulfilment: an exchange's replacement was dispatched; key = order id.",
)
AFTERSALE_LEDGER_PUBLISHED = register(
    "aftersale.ledger_published",
    LedgerPublished,
    description="The weekly after-sale ledger; key = the ISO week.",
)
