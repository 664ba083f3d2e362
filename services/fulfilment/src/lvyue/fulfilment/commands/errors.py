"""What a shipment command refuses, with enough detail for a 404/409/422 answer."""

from __future__ import annotations

import uuid

from lvyue.fulfilment.repository import ShipmentRecord


class ShipmentNotFound(LookupError):
    def __init__(self, shipment_id: uuid.UUID) -> None:
        super().__init__(f"shipment {shipment_id} not found")


class ShipmentConflict(Exception):
    """The shipment's state refuses the request (HTTP 409): names the state it is in."""

    def __init__(self, shipment: ShipmentRecord, message: str) -> None:
        super().__init__(message)
        self.shipment = shipment

    def detail(self) -> dict[str, str | None]:
        return {
            "state": self.shipment.status.value,
            "carrier_code": self.shipment.carrier_code,
            "tracking_number": self.shipment.tracking_number,
            "msg": str(self),
        }


class InvalidDispatch(ValueError):
    """A confirmation that cannot be true, e.g. dispatched in the future (HTTP 422)."""
