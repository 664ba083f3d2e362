"""The event catalogue: every event type lvyue produces, with its payload model and version."""

from __future__ import annotations

import uuid

from pydantic import AwareDatetime, BaseModel, ConfigDict

from lvyue.common.contracts.order import CanonicalOrder
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


ORDER_CREATED = register(
    "order.created", OrderCreated, description="An order was accepted; key = order id."
)
SLA_BREACHED = register(
    "sla.breached", SlaBreached, description="A deadline was breached; key = its subject."
)
