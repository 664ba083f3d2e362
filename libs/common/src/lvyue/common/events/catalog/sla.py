"""The deadline engine's event: a deadline breached (each service's scanner publishes it)."""

from __future__ import annotations

import uuid

from pydantic import AwareDatetime

from lvyue.common.events.catalog.base import Payload
from lvyue.common.events.registry import register


class SlaBreached(Payload):
    """A deadline passed without being closed: published once per deadline."""

    deadline_id: uuid.UUID
    sla: str
    subject: str
    service: str
    opened_at: AwareDatetime
    due_at: AwareDatetime
    breached_at: AwareDatetime


SLA_BREACHED = register(
    "sla.breached", SlaBreached, description="A deadline was breached; key = its subject."
)
