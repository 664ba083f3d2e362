"""The one envelope every event travels in: CloudEvents 1.0 attributes around a pydantic payload."""

from __future__ import annotations

import builtins
import uuid
from datetime import datetime
from typing import Any, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict

from lvyue.common.contracts.order import accepted
from lvyue.common.events.registry import EventType

P = TypeVar("P", bound=BaseModel)


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    type: str  # CloudEvents type, e.g. "lvyue.order.created"
    source: str  # the producing service, e.g. "/lvyue/order-review"
    subject: str  # the order id: also the Kafka key
    time: AwareDatetime
    dataschema: str
    datacontenttype: str = "application/json"
    data: dict[str, Any]

    def payload(self, model: builtins.type[P]) -> P:
        # What another service accepted, perhaps under older rules: read it, never refuse it.
        return model.model_validate(self.data, context=accepted())


def new_event(
    spec: EventType, payload: BaseModel, *, subject: str, source: str, time: datetime
) -> Envelope:
    """A fresh event of a registered type; the payload must be that type's model."""
    if not isinstance(payload, spec.payload):
        raise TypeError(
            f"{spec.name} carries {spec.payload.__name__}, not {type(payload).__name__}"
        )
    return Envelope(
        id=uuid.uuid4(),
        type=spec.ce_type,
        source=source,
        subject=subject,
        time=time,
        dataschema=spec.dataschema,
        data=payload.model_dump(mode="json"),
    )
