"""Every stock change goes through here: audit movement and row update; then the low-stock latch."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from lvyue.common.events.catalog import INVENTORY_LOW_STOCK, LowStock
from lvyue.common.uow import UnitOfWork
from lvyue.inventory import repository
from lvyue.inventory.domain import (
    LatchChange,
    MovementKind,
    StockPolicy,
    low_stock_change,
    suggested_replenishment,
)
from lvyue.inventory.metrics import LOW_STOCK_EVENTS
from lvyue.inventory.repository import Movement, StockKey, StockRow


@dataclass(frozen=True)
class Change:
    kind: MovementKind
    on_hand_delta: int = 0
    reserved_delta: int = 0
    order_id: uuid.UUID | None = None
    reference: str | None = None
    note: str = ""
    sold_at: datetime | None = None  # a sale: sets last_sale_at, ends a slow-moving streak


async def record(
    uow: UnitOfWork, row: StockRow, change: Change, *, actor: str
) -> tuple[Movement, StockRow] | None:
    """Applies a change to a row locked by the caller; None if its reference was applied before.

    The movement goes first: a repeated reference then stops before stock is touched.
    Call `check_low_stock` for the touched rows once the whole operation is done.
    """
    now = uow.clock.now()
    movement = await repository.insert_movement(
        uow.session,
        key=row.key,
        kind=change.kind,
        on_hand_delta=change.on_hand_delta,
        reserved_delta=change.reserved_delta,
        on_hand_after=row.on_hand + change.on_hand_delta,
        reserved_after=row.reserved + change.reserved_delta,
        order_id=change.order_id,
        reference=change.reference,
        actor=actor,
        note=change.note,
        at=now,
    )
    if movement is None:
        return None
    after = row
    if change.on_hand_delta or change.reserved_delta or change.sold_at is not None:
        after = await repository.apply_stock_delta(
            uow.session,
            key=row.key,
            on_hand_delta=change.on_hand_delta,
            reserved_delta=change.reserved_delta,
            at=now,
            sold_at=change.sold_at,
        )
    if (after.on_hand, after.reserved) != (movement.on_hand_after, movement.reserved_after):
        # The caller's row was stale: refuse rather than write a false audit trail.
        raise RuntimeError(f"stock row {row.key} changed under its lock holder")
    return movement, after


async def record_all(
    uow: UnitOfWork,
    rows: Mapping[StockKey, StockRow],
    changes: Sequence[tuple[StockKey, Change, str]],
) -> dict[StockKey, StockRow]:
    """Changes without a reference, applied in turn to rows locked by the caller (a row may
    change several times), in two statements: the movements, then the rows. (key, change,
    actor) each; returns the changed rows after, by key."""
    if any(c.reference is not None or c.sold_at is not None for _, c, _ in changes):
        raise ValueError("record_all takes neither references nor sales: use record")
    if not changes:
        return {}
    now = uow.clock.now()
    current = dict(rows)
    movements = []
    for key, change, actor in changes:
        before, current[key] = current[key], _applied(current[key], change)
        movements.append(_movement(before, current[key], change, actor, now))
    await repository.insert_movements(uow.session, movements)
    deltas = {
        key: (current[key].on_hand - rows[key].on_hand, current[key].reserved - rows[key].reserved)
        for key in {key for key, _, _ in changes}
    }
    written = await repository.apply_stock_deltas(uow.session, deltas, at=now)
    for key, row in written.items():
        if (row.on_hand, row.reserved) != (current[key].on_hand, current[key].reserved):
            # The caller's row was stale: refuse rather than write a false audit trail.
            raise RuntimeError(f"stock row {key} changed under its lock holder")
    return written


def _applied(row: StockRow, change: Change) -> StockRow:
    return replace(
        row,
        on_hand=row.on_hand + change.on_hand_delta,
        reserved=row.reserved + change.reserved_delta,
    )


def _movement(
    before: StockRow, after: StockRow, change: Change, actor: str, at: datetime
) -> dict[str, object]:
    """The audit row of one change, as repository.insert_movements takes it."""
    return {
        "warehouse_id": before.warehouse_id,
        "sku": before.sku,
        "kind": change.kind,
        "on_hand_delta": change.on_hand_delta,
        "reserved_delta": change.reserved_delta,
        "on_hand_after": after.on_hand,
        "reserved_after": after.reserved,
        "order_id": change.order_id,
        "reference": None,
        "actor": actor,
        "note": change.note,
        "at": at,
    }


async def check_low_stock(uow: UnitOfWork, policy: StockPolicy, keys: Iterable[StockKey]) -> None:
    """Rule low_stock_50, once per operation after all its changes (a release followed by a
    reserve of the same SKU is no recovery): one inventory.low_stock per crossing below."""
    await latch_low_stock(uow, policy, (await repository.lock_stock(uow.session, keys)).values())


async def latch_low_stock(uow: UnitOfWork, policy: StockPolicy, rows: Iterable[StockRow]) -> None:
    """check_low_stock for rows the caller holds locked and knows as they are now."""
    for row in sorted(rows, key=lambda r: r.key):
        await _latch(uow, policy, row)


async def _latch(uow: UnitOfWork, policy: StockPolicy, row: StockRow) -> None:
    threshold = policy.threshold(row.safety_threshold)
    change = low_stock_change(available=row.available, threshold=threshold, latched=row.low_stock)
    if change is LatchChange.NONE:
        return
    await repository.set_low_stock(uow.session, row.key, latched=change is LatchChange.LATCH)
    if change is LatchChange.UNLATCH:
        return
    suggestion = suggested_replenishment(
        available=row.available, threshold=threshold, multiple=policy.replenish_to_multiple
    )
    await uow.emit(
        INVENTORY_LOW_STOCK,
        LowStock(
            sku=row.sku,
            warehouse_id=row.warehouse_id,
            available=row.available,
            threshold=threshold,
            suggested_replenishment=suggestion,
        ),
        subject=row.sku,
    )
    warehouse = row.warehouse_id
    uow.after_commit(LOW_STOCK_EVENTS.labels(warehouse).inc)
