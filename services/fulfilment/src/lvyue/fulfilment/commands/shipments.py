"""Shipment use cases behind the API: dispatch confirmation, operator cancel, reading one
shipment; each runs in its own unit of work and commits before the answer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from lvyue.common.deadlines.store import Deadline, for_subject
from lvyue.common.uow import UnitOfWork
from lvyue.fulfilment import repository
from lvyue.fulfilment.cancel import CancelShipment, cancel_shipment
from lvyue.fulfilment.commands.errors import ShipmentNotFound
from lvyue.fulfilment.dispatch import DispatchShipment, dispatch_shipment
from lvyue.fulfilment.hooks import DispatchHooks
from lvyue.fulfilment.repository import ShipmentRecord


@dataclass(frozen=True)
class ShipmentView:
    shipment: ShipmentRecord
    deadlines: list[Deadline]


async def _view(uow: UnitOfWork, shipment: ShipmentRecord) -> ShipmentView:
    return ShipmentView(shipment, await for_subject(uow.session, shipment.deadline_subject))


async def confirm_dispatch(
    uow: UnitOfWork, cmd: DispatchShipment, hooks: DispatchHooks, *, skew: timedelta
) -> ShipmentView:
    """Records the warehouse's dispatch; a repeat of the same confirmation returns it unchanged."""
    async with uow:
        outcome = await dispatch_shipment(uow, cmd, hooks, skew=skew)
        view = await _view(uow, outcome.shipment)
        await uow.commit()
    return view


async def cancel_by_operator(uow: UnitOfWork, cmd: CancelShipment) -> ShipmentView:
    async with uow:
        outcome = await cancel_shipment(uow, cmd)
        view = await _view(uow, outcome.shipment)
        await uow.commit()
    return view


async def read_shipment(uow: UnitOfWork, shipment_id: uuid.UUID) -> ShipmentView:
    async with uow:
        shipment = await repository.get_shipment(uow.session, shipment_id)
        if shipment is None:
            raise ShipmentNotFound(shipment_id)
        return await _view(uow, shipment)
