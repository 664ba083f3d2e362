"""How the shipment routes answer the commands' errors: 404, 409 and 422, and their docs."""

from __future__ import annotations

from fastapi import HTTPException, status

from lvyue.fulfilment.commands.errors import InvalidDispatch, ShipmentConflict, ShipmentNotFound

NOT_FOUND: dict[int | str, dict[str, str]] = {404: {"description": "no such shipment"}}
DISPATCH_ERRORS: dict[int | str, dict[str, str]] = {
    **NOT_FOUND,
    409: {"description": "cancelled, or dispatched with another carrier/tracking number: "
          "detail names the state and the recorded tracking number"},
    422: {"description": "invalid body (dispatched_at before 2000), or dispatched_at in the "
          "future or before the shipment was requested, beyond LVYUE_DISPATCH_CLOCK_SKEW_S"},
}  # fmt: skip
CANCEL_ERRORS: dict[int | str, dict[str, str]] = {
    **NOT_FOUND,
    409: {"description": "already dispatched: detail names the state"},
}


def refused(exc: ShipmentNotFound | ShipmentConflict | InvalidDispatch) -> HTTPException:
    if isinstance(exc, ShipmentNotFound):
        return HTTPException(status.HTTP_404_NOT_FOUND, str(exc))
    if isinstance(exc, InvalidDispatch):
        return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc))
    return HTTPException(status.HTTP_409_CONFLICT, exc.detail())
