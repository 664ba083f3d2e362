"""Request and response bodies of the aftersales API (XCreate in, XRead out)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from lvyue.aftersales.domain import CaseState, CaseType, Reason, Source
from lvyue.common.contracts.order import Money, Quantity, Text64, Text128
from lvyue.common.contracts.text import FreeText
from lvyue.common.openapi import examples, page_of
from lvyue.common.paging import Page

Sku = Text128  # the order contract's one-line texts: no control or format character
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), FreeText]
Amount = Annotated[Money, Field(gt=0)]
"""Money in: the order contract's (a string of ASCII digits, at most 2 places), above zero."""


_CASE = {
    "id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    "order_id": "0b9e4c52-6c1e-4a53-9d35-2f4f2f7f6a10",
    "type": "return_and_refund",
    "reason": "quality",
    "description": "茶叶受潮结块",
    "lines": [{"sku": "TEA-LJ-250G", "quantity": 1, "unit_price": "168.00"}],
    "requested_amount": "168.00",
    "state": "awaiting_return",
    "source": "webhook",
    "platform": "taobao",
    "shop_id": "tb-shop-001",
    "platform_aftersale_id": "62415380123456789",
    "requested_at": "2026-12-08T10:00:00+08:00",
    "decided_at": "2026-12-08T11:30:00+08:00",
    "decided_by": "ops:cs-xiaolin",
    "decision_note": "同意退货退款",
    "return_received_at": None,
    "returned_lines": None,
    "refund": None,
    "replacement": None,
    "deadlines": [
        {
            "sla": "aftersale_response_24h",
            "state": "met",
            "opened_at": "2026-12-08T10:00:00+08:00",
            "due_at": "2026-12-09T10:00:00+08:00",
            "closed_at": "2026-12-08T11:30:00+08:00",
        }
    ],
    "history": [
        {
            "state": "requested",
            "at": "2026-12-08T10:00:00+08:00",
            "actor": "webhook:taobao/tb-shop-001",
            "note": "",
        },
        {
            "state": "awaiting_return",
            "at": "2026-12-08T11:30:00+08:00",
            "actor": "ops:cs-xiaolin",
            "note": "同意退货退款",
        },
    ],
}


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LineCreate(_In):
    sku: Sku
    quantity: Quantity


class _CaseFields(_In):
    type: CaseType
    reason: Reason
    description: Description = Field(default="", description="The buyer's words, free text.")
    lines: tuple[LineCreate, ...] = Field(min_length=1, max_length=500)
    refund_amount: Amount | None = Field(
        default=None, description="Requested refund; required for refunds, absent for exchanges."
    )

    @model_validator(mode="after")
    def _amount_fits_type(self) -> Self:
        if self.type is CaseType.EXCHANGE and self.refund_amount is not None:
            raise ValueError("an exchange has no refund_amount")
        if self.type is not CaseType.EXCHANGE and self.refund_amount is None:
            raise ValueError(f"a {self.type} case needs refund_amount")
        return self


class CaseCreate(_CaseFields):
    """Operator intake (POST /aftersales) for an order lvyue knows by its id."""

    model_config = examples(
        {
            "order_id": "0b9e4c52-6c1e-4a53-9d35-2f4f2f7f6a10",
            "type": "return_and_refund",
            "reason": "quality",
            "description": "茶叶受潮结块",
            "lines": [{"sku": "TEA-LJ-250G", "quantity": 1}],
            "refund_amount": "168.00",
        }
    )

    order_id: uuid.UUID


class WebhookCaseCreate(_CaseFields):
    """The canonical after-sale webhook: the order named by the platform's ids."""

    model_config = ConfigDict(extra="ignore", frozen=True)  # newer senders may add fields

    platform: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{1,31}$")]
    shop_id: Text128
    platform_order_id: Text64
    platform_aftersale_id: Text64 = Field(description="The platform's id of this after-sale case.")


class ApprovalCreate(_In):
    model_config = examples({"note": "同意退货退款"})

    note: Description = ""


class RejectionCreate(_In):
    model_config = examples({"reason": "已超过七天无理由退货期限"})

    reason: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), FreeText
    ]


class ReturnLineCreate(LineCreate):
    sellable: bool = Field(description="Fit to sell again: inventory puts it back on hand.")


class ReturnCreate(_In):
    model_config = examples({"lines": [{"sku": "TEA-LJ-250G", "quantity": 1, "sellable": False}]})

    lines: tuple[ReturnLineCreate, ...] = Field(min_length=1, max_length=500)


class RefundCreate(_In):
    model_config = examples({"reference": "ALIPAY-RF-20261209-0001", "amount": "168.00"})

    reference: Text128 = Field(description="The payment's refund reference; a repeat is a no-op.")
    amount: Amount


class CaseLineRead(BaseModel):
    sku: str
    quantity: int
    unit_price: Decimal


class ReturnLineRead(BaseModel):
    sku: str
    quantity: int
    sellable: bool


class RefundRead(BaseModel):
    reference: str
    amount: Decimal
    currency: str
    refunded_at: datetime
    actor: str


class ReplacementRead(BaseModel):
    """An exchange's replacement parcel, once fulfilment dispatched it."""

    shipment_id: uuid.UUID
    carrier: str
    tracking_number: str
    dispatched_at: datetime


class DeadlineRead(BaseModel):
    sla: str
    state: str
    opened_at: datetime
    due_at: datetime
    closed_at: datetime | None


class HistoryRead(BaseModel):
    state: str
    at: datetime
    actor: str
    note: str


class CaseRead(BaseModel):
    model_config = examples(_CASE)

    id: uuid.UUID
    order_id: uuid.UUID
    type: CaseType
    reason: Reason
    description: str
    lines: list[CaseLineRead]
    requested_amount: Decimal | None
    state: CaseState
    source: Source
    platform: str
    shop_id: str
    platform_aftersale_id: str | None
    requested_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    decision_note: str | None
    return_received_at: datetime | None
    returned_lines: list[ReturnLineRead] | None
    refund: RefundRead | None
    replacement: ReplacementRead | None
    deadlines: list[DeadlineRead]
    history: list[HistoryRead]


class CasePage(Page[CaseRead]):
    model_config = examples(page_of(_CASE))


class IntakeRead(BaseModel):
    model_config = examples(
        {
            "aftersale_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
            "order_id": "0b9e4c52-6c1e-4a53-9d35-2f4f2f7f6a10",
            "state": "requested",
            "duplicate": False,
        }
    )

    aftersale_id: uuid.UUID
    order_id: uuid.UUID
    state: CaseState
    duplicate: bool


class OrderRead(BaseModel):
    """An order as aftersales knows it, with what can still be refunded."""

    model_config = examples(
        {
            "order_id": "0b9e4c52-6c1e-4a53-9d35-2f4f2f7f6a10",
            "reviewed": True,
            "shipped": True,
            "platform": "taobao",
            "shop_id": "tb-shop-001",
            "platform_order_id": "3914567281234567890",
            "warehouse_id": "WH-SH-01",
            "shipped_at": "2026-12-05T15:20:00+08:00",
            "paid_total": "345.90",
            "refunded_total": "0.00",
            "refundable": "345.90",
            "currency": "CNY",
            "cases": ["9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"],
        }
    )

    order_id: uuid.UUID
    reviewed: bool
    shipped: bool
    platform: str | None
    shop_id: str | None
    platform_order_id: str | None
    warehouse_id: str | None
    shipped_at: datetime | None
    paid_total: Decimal | None
    refunded_total: Decimal
    refundable: Decimal | None
    currency: str | None
    cases: list[uuid.UUID]
