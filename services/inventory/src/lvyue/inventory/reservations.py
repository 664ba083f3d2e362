"""Rule no_oversell: an order's stock is reserved all or none, released, deducted or restocked.

An exchange's replacement parcel is held the same way, under its after-sale id.

Every function runs inside the caller's unit of work and locks the stock rows it touches
with SELECT ... FOR UPDATE in (warehouse, SKU) order; the CHECK constraints on `stock`
refuse an oversell even if this code were wrong.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import structlog

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
    Allocation,
    MovementKind,
    ReservationState,
    allocate,
    requested_quantities,
)
from lvyue.inventory.ledger import Change, record, record_all
from lvyue.inventory.metrics import REPLACEMENT_RESERVATIONS, RESERVATIONS
from lvyue.inventory.repository import Reservation, StockKey, StockRow

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Reserved:
    allocation: Allocation  # the all-or-none decision: on a refusal, what was short or unknown
    touched: list[StockKey]  # stock rows changed
    after: list[StockRow] = field(default_factory=list)  # those rows now (still locked)

    @property
    def ok(self) -> bool:
        """False: refused, nothing reserved."""
        return self.allocation.ok


async def _reserve(
    uow: UnitOfWork,
    *,
    holder: uuid.UUID,
    order_id: uuid.UUID,
    warehouse: str,
    lines: Mapping[str, int],
    actor: str,
    note: str = "",
) -> Reserved:
    """Reserves every SKU in the warehouse for `holder`, or none; announces nothing.

    `holder` owns the reservation rows (the order, or an exchange's after-sale case);
    the movements name `order_id`, so an order's trail shows its replacement too.
    """
    rows = await repository.lock_stock(uow.session, ((warehouse, sku) for sku in lines))
    allocation = allocate(lines, {sku: row.available for (_, sku), row in rows.items()})
    if not allocation.ok:
        return Reserved(allocation, touched=[])
    after = await record_all(
        uow,
        rows,
        [
            (
                (warehouse, sku),
                Change(MovementKind.RESERVE, reserved_delta=quantity, order_id=order_id, note=note),
                actor,
            )
            for sku, quantity in sorted(lines.items())
        ],
    )
    await repository.upsert_reservations(
        uow.session,
        {holder: {(warehouse, sku): quantity for sku, quantity in lines.items()}},
        at=uow.clock.now(),
    )
    return Reserved(allocation, touched=list(rows), after=list(after.values()))


async def reserve_order(
    uow: UnitOfWork,
    *,
    order_id: uuid.UUID,
    warehouse: str,
    lines: Mapping[str, int],
    actor: str,
) -> Reserved:
    """Reserves every SKU in the warehouse or none; emits reserved or rejected (review's input)."""
    reserved = await _reserve(
        uow, holder=order_id, order_id=order_id, warehouse=warehouse, lines=lines, actor=actor
    )
    await _announce(uow, order_id, warehouse, lines, reserved.allocation)
    return reserved


@dataclass(frozen=True)
class ReserveRequest:
    order_id: uuid.UUID
    lines: Mapping[str, int]  # quantity per SKU
    actor: str


async def reserve_orders(
    uow: UnitOfWork, requests: Sequence[ReserveRequest], *, warehouse: str
) -> tuple[dict[uuid.UUID, Allocation], list[StockRow]]:
    """reserve_order for several orders in turn, in a fixed number of statements: each order
    all or none against what the orders before it left. Every decision, by order, and the
    stock rows as they are now (still locked)."""
    rows = await repository.lock_stock(
        uow.session, ((warehouse, sku) for r in requests for sku in r.lines)
    )
    available = {key: row.available for key, row in rows.items()}
    decisions: dict[uuid.UUID, Allocation] = {}
    changes: list[tuple[StockKey, Change, str]] = []
    holders: dict[uuid.UUID, dict[StockKey, int]] = {}
    for request in requests:
        allocation = allocate(
            request.lines,
            {sku: available[(warehouse, sku)] for sku in request.lines if (warehouse, sku) in rows},
        )
        decisions[request.order_id] = allocation
        if not allocation.ok:
            continue
        for sku, quantity in sorted(request.lines.items()):
            available[(warehouse, sku)] -= quantity
            change = Change(
                MovementKind.RESERVE, reserved_delta=quantity, order_id=request.order_id
            )
            changes.append(((warehouse, sku), change, request.actor))
        holders[request.order_id] = {(warehouse, s): q for s, q in request.lines.items()}
    after = await record_all(uow, rows, changes)
    await repository.upsert_reservations(uow.session, holders, at=uow.clock.now())
    for request in requests:
        await _announce(
            uow, request.order_id, warehouse, request.lines, decisions[request.order_id]
        )
    return decisions, [after.get(key, row) for key, row in rows.items()]


async def _announce(
    uow: UnitOfWork,
    order_id: uuid.UUID,
    warehouse: str,
    lines: Mapping[str, int],
    allocation: Allocation,
) -> None:
    """inventory.reserved or inventory.rejected: review's input."""
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
        return
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


async def reserve_replacement(
    uow: UnitOfWork,
    *,
    aftersale_id: uuid.UUID,
    order_id: uuid.UUID,
    warehouse: str,
    lines: Mapping[str, int],
    actor: str,
) -> Reserved:
    """Holds an exchange's replacement under the after-sale id, all or none.

    No inventory.reserved / rejected: those are order-review's review inputs, keyed by order.
    Fulfilment ships the replacement whatever inventory holds, so a shortage is only logged
    and counted; a stock count adjustment corrects the figures later.
    """
    reserved = await _reserve(
        uow,
        holder=aftersale_id,
        order_id=order_id,
        warehouse=warehouse,
        lines=lines,
        actor=actor,
        note=f"exchange replacement for order {order_id}, after-sale {aftersale_id}",
    )
    if not reserved.ok:
        log.warning(
            "replacement_short",
            aftersale_id=str(aftersale_id),
            order_id=str(order_id),
            warehouse_id=warehouse,
            short_skus=[s.sku for s in reserved.allocation.short],
            unknown_skus=list(reserved.allocation.unknown_skus),
        )
    outcome = "reserved" if reserved.ok else "short"
    uow.after_commit(REPLACEMENT_RESERVATIONS.labels(outcome).inc)
    return reserved


async def release_order(
    uow: UnitOfWork,
    held: list[Reservation],
    *,
    actor: str,
    note: str,
    order_id: uuid.UUID | None = None,
) -> list[StockKey]:
    """Gives back what an order (or a replacement) still holds (reserved rows only); returns
    the rows changed. `order_id`: as in deduct_order."""
    return await _settle(
        uow, held, kind=MovementKind.RELEASE, actor=actor, note=note, order_id=order_id
    )


async def deduct_order(
    uow: UnitOfWork,
    held: list[Reservation],
    *,
    sold_at: datetime,
    actor: str,
    note: str = "shipped",
    order_id: uuid.UUID | None = None,
) -> list[StockKey]:
    """The parcel left: the reserved units leave stock and count as a sale.

    `order_id` names the order in the movements when the holder is not the order itself
    (an exchange's replacement, held by its after-sale id).
    """
    return await _settle(
        uow,
        held,
        kind=MovementKind.DEDUCT,
        actor=actor,
        note=note,
        sold_at=sold_at,
        order_id=order_id,
    )


async def _settle(
    uow: UnitOfWork,
    held: list[Reservation],
    *,
    kind: MovementKind,
    actor: str,
    note: str,
    sold_at: datetime | None = None,
    order_id: uuid.UUID | None = None,
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
            order_id=reservation.order_id if order_id is None else order_id,
            note=note,
            sold_at=sold_at,
        )
        await record(uow, rows[reservation.key], change, actor=actor)
    state = ReservationState.DEDUCTED if kind is MovementKind.DEDUCT else ReservationState.RELEASED
    await repository.set_reservation_state(
        uow.session,
        holder=open_[0].order_id,
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
    changes = _return_changes(aftersale_id, order_id, lines)
    skus = sorted({sku for sku, _ in changes})
    now = uow.clock.now()
    for sku in skus:
        # Goods physically arrived: a SKU this warehouse never stocked is created for them.
        await repository.insert_stock_if_new(
            uow.session, warehouse_id=warehouse_id, sku=sku, name="", safety_threshold=None, at=now
        )
    rows = await repository.lock_stock(uow.session, ((warehouse_id, sku) for sku in skus))
    for sku, change in changes:
        key = (warehouse_id, sku)
        done = await record(uow, rows[key], change, actor=actor)
        if done is not None:
            rows[key] = done[1]
    return list(rows)


def _return_changes(
    aftersale_id: uuid.UUID, order_id: uuid.UUID, lines: tuple[ReturnedLine, ...]
) -> list[tuple[str, Change]]:
    """(sku, change) of a return: sellable units back on hand, unsellable ones noted only."""
    sellable = requested_quantities((ln.sku, ln.quantity) for ln in lines if ln.sellable)
    unsellable = requested_quantities((ln.sku, ln.quantity) for ln in lines if not ln.sellable)
    restocked = [
        (sku, Change(
            MovementKind.RESTOCK,
            on_hand_delta=quantity,
            order_id=order_id,
            reference=f"return:{aftersale_id}:{sku}",
            note=f"returned sellable, after-sale {aftersale_id}",
        ))
        for sku, quantity in sellable.items()
    ]  # fmt: skip
    written_down = [
        (sku, Change(
            MovementKind.RESTOCK,
            order_id=order_id,
            reference=f"return:{aftersale_id}:{sku}:unsellable",
            note=f"returned unsellable: {quantity} not restocked, after-sale {aftersale_id}",
        ))
        for sku, quantity in unsellable.items()
    ]  # fmt: skip
    return restocked + written_down
