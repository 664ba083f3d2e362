"""aftersales' events: a return received, a refund paid, an exchange's replacement, the weekly
ledger."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, Field

from lvyue.common.contracts.order import Money, OrderLine, Receiver
from lvyue.common.events.catalog.base import Payload
from lvyue.common.events.catalog.inventory import StockLine
from lvyue.common.events.registry import register


class ReturnedLine(Payload):
    sku: str
    quantity: int = Field(gt=0)
    sellable: bool


class ReturnReceived(Payload):
    """Produced by aftersales: returned goods arrived; sellable ones go back to stock."""

    aftersale_id: uuid.UUID
    order_id: uuid.UUID
    warehouse_id: str
    lines: tuple[ReturnedLine, ...]
    received_at: AwareDatetime


AFTERSALE_RETURN_RECEIVED = register(
    "aftersale.return_received", ReturnReceived, description="Returned goods arrived."
)


SignedAmount = Annotated[Decimal, Field(max_digits=15, decimal_places=2)]


class AftersaleRefunded(Payload):
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


class ReplacementRequested(Payload):
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


class ReplacementDispatched(Payload):
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


class LedgerFigures(Payload):
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


class AftersalesLedger(Payload):
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


class LedgerPublished(Payload):
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
