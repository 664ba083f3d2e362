"""Extension points: work other fulfilment modules do in the dispatch's own transaction.

A hook runs inside the unit of work that records the dispatch, after the shipment is marked
dispatched and `order.shipped` is staged; it must not commit. Whatever it writes (e.g. a
tracking-sync job row) commits or rolls back with the dispatch. It is called once per
shipment: a repeated confirmation of an already dispatched shipment calls no hook.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from lvyue.common.uow import UnitOfWork
from lvyue.fulfilment.repository import ShipmentRecord

DispatchHook = Callable[[UnitOfWork, ShipmentRecord], Awaitable[None]]
"""`async def after_dispatch(uow, shipment) -> None`; the shipment is already dispatched."""

DispatchHooks = Sequence[DispatchHook]


async def after_dispatch(uow: UnitOfWork, shipment: ShipmentRecord, hooks: DispatchHooks) -> None:
    """Runs every hook in order; an exception rolls the whole dispatch back."""
    for hook in hooks:
        await hook(uow, shipment)
