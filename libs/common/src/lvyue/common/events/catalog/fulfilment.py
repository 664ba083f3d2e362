"""fulfilment's events: a shipment requested of or cancelled at the warehouse, its receiver
changed, dispatched, delayed."""

from __future__ import annotations

import uuid

from pydantic import AwareDatetime, Field

from lvyue.common.contracts.order import OrderLine, Receiver
from lvyue.common.events.catalog.base import Payload
from lvyue.common.events.catalog.orders import Priority
from lvyue.common.events.registry import register


class ShipmentRequested(Payload):
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


class ShipmentCancelled(Payload):
    """Do not ship: the order (or an exchange's replacement) was cancelled before dispatch."""

    shipment_id: uuid.UUID
    order_id: uuid.UUID
    warehouse_id: str
    reason: str
    cancelled_at: AwareDatetime
    aftersale_id: uuid.UUID | None = None  # set when the replacement of an exchange is stopped


class WarehouseDispatched(Payload):
    """From a warehouse system: the parcel left with the carrier (same as the dispatch API)."""

    shipment_id: uuid.UUID
    carrier_code: str = Field(min_length=1, max_length=32)
    tracking_number: str = Field(min_length=1, max_length=64)
    dispatched_at: AwareDatetime


class ShipmentDelayed(Payload):
    """No carrier scan for the configured time; `lost` once the longer limit passes."""

    shipment_id: uuid.UUID
    order_id: uuid.UUID
    warehouse_id: str
    carrier_code: str
    tracking_number: str
    last_scan_at: AwareDatetime | None
    lost: bool
    detected_at: AwareDatetime


class ShipmentReceiverChanged(Payload):
    """Contract v1 for warehouse systems: ship this shipment to this receiver instead (the buyer
    changed the address on the platform before dispatch). Key = order id. It travels on its own
    topic, so it can overtake the shipment's shipment.requested: a warehouse remembers it and
    applies it to the late request; once the parcel has left it changes nothing."""

    shipment_id: uuid.UUID
    order_id: uuid.UUID
    warehouse_id: str
    receiver: Receiver
    changed_at: AwareDatetime


SHIPMENT_REQUESTED = register(
    "shipment.requested", ShipmentRequested, description="To warehouse systems: ship this."
)


SHIPMENT_CANCELLED = register(
    "shipment.cancelled", ShipmentCancelled, description="To warehouse systems: do not ship."
)


SHIPMENT_RECEIVER_CHANGED = register(
    "shipment.receiver_changed",
    ShipmentReceiverChanged,
    description="To warehouse systems: ship to this receiver instead.",
)


WAREHOUSE_DISPATCHED = register(
    "warehouse.dispatched", WarehouseDispatched, description="From warehouse systems: shipped."
)


SHIPMENT_DELAYED = register(
    "shipment.delayed", ShipmentDelayed, description="No carrier scan for too long (or lost)."
)
