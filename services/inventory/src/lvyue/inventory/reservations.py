"""Rule no_oversell: an order's stock is reserved all or none, released, deducted or restocked.

Every function runs inside the caller's unit of work and locks the stock rows it touches
with SELECT ... FOR UPDATE in (warehouse, SKU) order; the CHECK constraints on `stock`
refuse an oversell even if this code were wrong.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from lvyue.common.events.catalog import (
    INVENTORY_REJECTED,
    INVENTORY_RESERVED,
    InventoryRejected,
    InventoryReserved,
    ReturnedLine,
    StockLine,
)
from lvyue.common.uow import UnitOfWork
from lvyue.inventory import repository
from lvyue.inventory.domain import (
    MovementKind,
    ReservationState,
    allocate,
    requested_quantities,
)
from lvyue.inventory.ledger import Change, record
from lvyue.inventory.metrics import RESERVATIONS
from lvyue.inventory.repository import Reservation, StockKey


@dataclass(frozen=True)
class Reserved:
    ok: bool  # False: rejected, nothing reserved
    touched: list[StockKey]  # stock rows changed


async def reserve_order(
    uow: UnitOfWork,
    *,
    order_id: uuid.UUID,
    warehouse: str,
    lines: Mapping[str, int],
    actor: str,
) -> Reserved:
    """Reserves every SKU in the warehouse or none; emits reserved or rejected."""
    rows = await repository.lock_stock(uow.session, ((warehouse, sku) for sku in lines))
    allocation = allocate(lines, {sku: row.available for (_, sku), row in rows.items()})
    now = uow.clock.now()
    if not allocation.ok:
        await uow.emit(
            INVENTORY_REJECTED,
            InventoryRejected(
                order_id=order_id,
                warehouse_id=warehouse,
                short=allocation.short,
                unknown_skus=allocation.unknown_skus,
                rejected_at=now,
            ),
            subject=str(order_id),
        )
        uow.after_commit(RESERVATIONS.labels("rejected").inc)
        return Reserved(ok=False, touched=[])
    for sku, quantity in sorted(lines.items()):
        change = Change(MovementKind.RESERVE, reserved_delta=quantity, order_id=order_id)
        await record(uow, rows[(warehouse, sku)], change, actor=actor)
        await repository.upsert_reservation(
            uow.session, order_id=order_id, key=(warehouse, sku), quantity=quantity, at=now
        )
    await uow.emit(
        INVENTORY_RESERVED,
        InventoryReserved(
            order_id=order_id,
            warehouse_id=warehouse,
            lines=tuple(StockLine(sku=s, quantity=q) for s, q in sorted(lines.items())),
            reserved_at=now,
        ),
        subject=str(order_id),
    )
    uow.after_commit(RESERVATIONS.labels("reserved").inc)
    return Reserved(ok=True, touched=list(rows))


async def release_order(
    uow: UnitOfWork, held: list[Reservation], *, actor: str, note: str
) -> list[StockKey]:
    """Gives back what an order still holds (reserved rows only); returns the rows changed."""
    return await _settle(uow, held, kind=MovementKind.RELEASE, actor=actor, note=note)


async def deduct_order(
    uow: UnitOfWork, held: list[Reservation], *, sold_at: datetime, actor: str
) -> list[StockKey]:
    """The parcel left: the reserved units leave stock and count as a sale."""
    return await _settle(
        uow, held, kind=MovementKind.DEDUCT, actor=actor, note="shipped", sold_at=sold_at
    )


async def _settle(
    uow: UnitOfWork,
    held: list[Reservation],
    *,
    kind: MovementKind,
    actor: str,
    note: str,
    sold_at: datetime | None = None,
) -> list[StockKey]:
    open_ = [r for r in held if r.state is ReservationState.RESERVED]
    if not open_:
        return []
    rows = await repository.lock_stock(uow.session, (r.key for r in open_))
    on_hand_sign = -1 if kind is MovementKind.DEDUCT else 0
    for reservation in open_:
        change = Change(
            kind,
            on_hand_delta=on_hand_sign * reservation.quantity,
            reserved_delta=-reservation.quantity,
            order_id=reservation.order_id,
            note=note,
            sold_at=sold_at,
        )
        await record(uow, rows[reservation.key], change, actor=actor)
    state = ReservationState.DEDUCTED if kind is MovementKind.DEDUCT else ReservationState.RELEASED
    await repository.set_reservation_state(
        uow.session,
        order_id=open_[0].order_id,
        skus=[r.sku for r in open_],
        state=state,
        at=uow.clock.now(),
    )
    return [r.key for r in open_]


async def restock_return(
    uow: UnitOfWork,
    *,
    aftersale_id: uuid.UUID,
    order_id: uuid.UUID,
    warehouse_id: str,
    lines: tuple[ReturnedLine, ...],
    actor: str,
) -> list[StockKey]:
    """Sellable units go back on hand; unsellable ones are only written down.

    References are per after-sale case and SKU, so a repeated return changes nothing.
    """
    sellable = requested_quantities((ln.sku, ln.quantity) for ln in lines if ln.sellable)
    unsellable = requested_quantities((ln.sku, ln.quantity) for ln in lines if not ln.sellable)
    now = uow.clock.now()
    for sku in sorted(sellable.keys() | unsellable.keys()):
        # Goods physically arrived: a SKU this warehouse never stocked is created for them.
        await repository.insert_stock_if_new(
            uow.session, warehouse_id=warehouse_id, sku=sku, name="", safety_threshold=None, at=now
        )
    rows = await repository.lock_stock(
        uow.session, ((warehouse_id, sku) for sku in sellable.keys() | unsellable.keys())
    )
    changes = [
        Change(
            MovementKind.RESTOCK,
            on_hand_delta=quantity,
            order_id=order_id,
            reference=f"return:{aftersale_id}:{sku}",
            note=f"returned sellable, after-sale {aftersale_id}",
        )
        for sku, quantity in sellable.items()
    ] + [
        Change(
            MovementKind.RESTOCK,
            order_id=order_id,
            reference=f"return:{aftersale_id}:{sku}:unsellable",
            note=f"returned unsellable: {quantity} not restocked, after-sale {aftersale_id}",
        )
        for sku, quantity in unsellable.items()
    ]
    skus = list(sellable) + list(unsellable)
    for sku, change in zip(skus, changes, strict=True):
        key = (warehouse_id, sku)
        done = await record(uow, rows[key], change, actor=actor)
        if done is not None:
            rows[key] = done[1]
    return list(rows)
