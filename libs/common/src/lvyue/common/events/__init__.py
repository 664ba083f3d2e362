"""Events: the CloudEvents envelope, the registry of event types and topics, the Kafka binding."""

from lvyue.common.events.envelope import Envelope, new_event
from lvyue.common.events.registry import (
    EVENT_TYPES,
    EventType,
    all_topics,
    by_ce_type,
    dead_letter_topic,
    register,
)

__all__ = [
    "EVENT_TYPES",
    "Envelope",
    "EventType",
    "all_topics",
    "by_ce_type",
    "dead_letter_topic",
    "new_event",
    "register",
]
