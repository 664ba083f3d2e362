"""docs/warehouse-contract.md matches the payload models: every field, every example."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from lvyue.common.events import EVENT_TYPES
from lvyue.common.events.catalog import (
    ShipmentCancelled,
    ShipmentReceiverChanged,
    ShipmentRequested,
    WarehouseDispatched,
)

DOC = Path(__file__).parents[3] / "docs" / "warehouse-contract.md"
CONTRACT: dict[str, type[BaseModel]] = {
    "shipment.requested": ShipmentRequested,
    "shipment.cancelled": ShipmentCancelled,
    "shipment.receiver_changed": ShipmentReceiverChanged,
    "warehouse.dispatched": WarehouseDispatched,
}


def _section(text: str, heading: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match is not None, f"no section '## {heading}'"
    return match.group(1)


def _documented_fields(section: str) -> list[str]:
    return re.findall(r"^\| `([a-z_]+)` \|", section, re.M)


@pytest.mark.parametrize(("topic", "model"), CONTRACT.items())
def test_every_payload_field_is_documented_in_order(topic: str, model: type[BaseModel]) -> None:
    section = _section(DOC.read_text(encoding="utf-8"), topic)
    assert _documented_fields(section) == list(model.model_fields)


@pytest.mark.parametrize("topic", CONTRACT)
def test_the_topic_table_names_the_registered_version(topic: str) -> None:
    assert f"`{EVENT_TYPES[topic].dataschema}`" in DOC.read_text(encoding="utf-8")


def test_the_json_examples_are_valid_payloads() -> None:
    examples = re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    parsed = [json.loads(e) for e in examples]
    assert len(parsed) == 3
    requested, cancelled, dispatched = parsed
    assert ShipmentRequested.model_validate(requested).model_dump(mode="json") == requested
    assert ShipmentCancelled.model_validate(cancelled).model_dump(mode="json") == cancelled
    assert WarehouseDispatched.model_validate(dispatched).model_dump(mode="json") == dispatched
