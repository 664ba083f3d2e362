"""Event types: name, version, payload model and topic. One topic per event type, key = order id."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

CE_TYPE_PREFIX = "lvyue."


@dataclass(frozen=True)
class EventType:
    name: str  # "order.created": also the topic name (before the deployment's prefix)
    version: int
    payload: type[BaseModel]
    description: str = ""

    @property
    def ce_type(self) -> str:
        return f"{CE_TYPE_PREFIX}{self.name}"

    @property
    def dataschema(self) -> str:
        return f"urn:lvyue:event:{self.name}:v{self.version}"

    @property
    def topic(self) -> str:
        return self.name


EVENT_TYPES: dict[str, EventType] = {}


def register(
    name: str, payload: type[BaseModel], *, version: int = 1, description: str = ""
) -> EventType:
    """Registers an event type; registering the same name twice is a programming error."""
    if name in EVENT_TYPES:
        raise ValueError(f"event type {name!r} is registered twice")
    spec = EventType(name=name, version=version, payload=payload, description=description)
    EVENT_TYPES[name] = spec
    return spec


def by_ce_type(ce_type: str) -> EventType | None:
    return EVENT_TYPES.get(ce_type.removeprefix(CE_TYPE_PREFIX))


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlq"


def all_topics(prefix: str = "") -> list[str]:
    """Every registered topic and its dead-letter topic, with the deployment's prefix."""
    names = sorted(spec.topic for spec in EVENT_TYPES.values())
    return [f"{prefix}{t}" for n in names for t in (n, dead_letter_topic(n))]
