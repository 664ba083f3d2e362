"""Stock use cases behind the API: SKUs, receipts, counts; each runs in its own unit of work
and commits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lvyue.common.uow import UnitOfWork
from lvyue.inventory import repository
from lvyue.inventory.commands.errors import RuleViolation, UnknownSku
from lvyue.inventory.domain import MAX_ON_HAND, MovementKind, StockPolicy, on_hand_limit_exceeded
from lvyue.inventory.ledger import Change, check_low_stock, record
from lvyue.inventory.repository import Movement, StockKey, StockRow


@dataclass(frozen=True)
class UpsertSku:
    warehouse_id: str
    sku: str
    name: str
    safety_threshold: int | None


@dataclass(frozen=True)
class ReceiveStock:
    warehouse_id: str
    sku: str
    quantity: int
    reference: str
    note: str


@dataclass(frozen=True)
class AdjustStock:
    warehouse_id: str
    sku: str
    counted_on_hand: int
    reference: str
    reason: str


async def upsert_sku(cmd: UpsertSku, uow: UnitOfWork, policy: StockPolicy) -> tuple[StockRow, bool]:
    """Creates the SKU with no stock, or sets its name and threshold; True when created."""
    key = (cmd.warehouse_id, cmd.sku)
    async with uow:
        created = await repository.insert_stock_if_new(
            uow.session,
            warehouse_id=cmd.warehouse_id,
            sku=cmd.sku,
            name=cmd.name,
            safety_threshold=cmd.safety_threshold,
            at=uow.clock.now(),
        )
        if not created:
            await repository.lock_stock(uow.session, [key])
            changed = await repository.update_stock_details(
                uow.session,
                key=key,
                name=cmd.name,
                safety_threshold=cmd.safety_threshold,
                at=uow.clock.now(),
            )
            if changed:  # a new threshold may put the SKU below it, or lift it clear
                await check_low_stock(uow, policy, [key])
        row = await repository.get_stock(uow.session, *key)
        await uow.commit()
    assert row is not None
    return row, created


async def receive_stock(
    cmd: ReceiveStock, uow: UnitOfWork, policy: StockPolicy, *, actor: str
) -> tuple[Movement, bool]:
    """Goods received; True when applied now, False for a repeat of the same reference."""
    key = (cmd.warehouse_id, cmd.sku)

    def plan(row: StockRow) -> Change:
        _check_on_hand_limit(row, cmd.quantity, "quantity")
        return Change(
            MovementKind.RECEIPT, on_hand_delta=cmd.quantity, reference=cmd.reference, note=cmd.note
        )

    def same(m: Movement) -> bool:
        return (m.warehouse_id, m.sku, m.on_hand_delta) == (*key, cmd.quantity)

    return await _apply_once(
        uow, policy, key, MovementKind.RECEIPT, cmd.reference, plan=plan, same=same, actor=actor
    )


async def adjust_stock(
    cmd: AdjustStock, uow: UnitOfWork, policy: StockPolicy, *, actor: str
) -> tuple[Movement, bool]:
    """A stock count: on hand becomes what was counted, never below what orders hold."""
    key = (cmd.warehouse_id, cmd.sku)

    def plan(row: StockRow) -> Change:
        if cmd.counted_on_hand < row.reserved:
            raise RuleViolation(
                "no_oversell",
                "counted_on_hand",
                f"counted_on_hand {cmd.counted_on_hand} is below the {row.reserved} units "
                f"reserved for orders of sku {cmd.sku!r}; release or ship those orders first",
            )
        # The API caps a count lower; the command keeps the rule whoever calls it.
        _check_on_hand_limit(row, cmd.counted_on_hand - row.on_hand, "counted_on_hand")
        return Change(
            MovementKind.ADJUSTMENT,
            on_hand_delta=cmd.counted_on_hand - row.on_hand,
            reference=cmd.reference,
            note=cmd.reason,
        )

    def same(m: Movement) -> bool:
        return (m.warehouse_id, m.sku, m.on_hand_after) == (*key, cmd.counted_on_hand)

    return await _apply_once(
        uow, policy, key, MovementKind.ADJUSTMENT, cmd.reference, plan=plan, same=same, actor=actor
    )


def _check_on_hand_limit(row: StockRow, on_hand_delta: int, field: str) -> None:
    """Refused before anything is written: the database would fail the write (a 500)."""
    if on_hand_limit_exceeded(row.on_hand, on_hand_delta):
        raise RuleViolation(
            "on_hand_limit",
            field,
            f"stock on hand would exceed {MAX_ON_HAND:,}: sku {row.sku!r} in warehouse "
            f"{row.warehouse_id!r} has {row.on_hand:,} on hand, and this would make it "
            f"{row.on_hand + on_hand_delta:,}",
        )


async def _apply_once(
    uow: UnitOfWork,
    policy: StockPolicy,
    key: StockKey,
    kind: MovementKind,
    reference: str,
    *,
    plan: Callable[[StockRow], Change],
    same: Callable[[Movement], bool],
    actor: str,
) -> tuple[Movement, bool]:
    """Idempotent by (kind, reference): a repeat returns the first movement and applies nothing."""
    async with uow:
        rows = await repository.lock_stock(uow.session, [key])
        if key not in rows:
            raise UnknownSku(key)
        earlier = await repository.movement_by_reference(uow.session, kind, reference)
        if earlier is None:
            done = await record(uow, rows[key], plan(rows[key]), actor=actor)
            if done is not None:
                await check_low_stock(uow, policy, [key])
                await uow.commit()
                return done[0], True
            # A concurrent request with this reference committed first.
            earlier = await repository.movement_by_reference(uow.session, kind, reference)
            assert earlier is not None
    if not same(earlier):
        raise RuleViolation(
            "idempotent_reference",
            "reference",
            f"reference {reference!r} was already used for {kind} #{earlier.id} "
            f"({earlier.warehouse_id}/{earlier.sku}, on_hand_delta {earlier.on_hand_delta}, "
            f"on_hand_after {earlier.on_hand_after}); use a new reference for a new {kind}",
        )
    return earlier, False
