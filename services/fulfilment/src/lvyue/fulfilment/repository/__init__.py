"""All SQL of fulfilment: it receives a session and returns plain records."""

from lvyue.fulfilment.repository.orders import (
    PlatformChanges,
    changes_among,
    lock_order,
    lock_orders,
    remember_cancelled,
    remember_receiver,
)
from lvyue.fulfilment.repository.records import NewShipment, ShipmentLine, ShipmentRecord
from lvyue.fulfilment.repository.shipments import (
    count_pending_by_warehouse,
    get_shipment,
    insert_order_shipments,
    insert_shipment,
    list_shipments,
    mark_cancelled,
    mark_dispatched,
    shipment_for_order,
)

__all__ = [
    "NewShipment",
    "PlatformChanges",
    "ShipmentLine",
    "ShipmentRecord",
    "changes_among",
    "count_pending_by_warehouse",
    "get_shipment",
    "insert_order_shipments",
    "insert_shipment",
    "list_shipments",
    "lock_order",
    "lock_orders",
    "mark_cancelled",
    "mark_dispatched",
    "remember_cancelled",
    "remember_receiver",
    "shipment_for_order",
]
