"""SQL for stock rows: locking, reading, creating, changing, and the slow-moving claim."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Integer,
    Text,
    bindparam,
    func,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from lvyue.common.paging import Paging, equal, fetch_page, filtered
from lvyue.inventory.repository.records import StockKey, StockRow, stock_record
from lvyue.inventory.tables import stock

# The keys as two arrays: one statement text whatever their number (see lvyue.common.sql).
_WANTED_KEYS = select(
    func.unnest(bindparam("warehouse_ids", type_=ARRAY(Text)), bindparam("skus", type_=ARRAY(Text)))
    .table_valued("warehouse_id", "sku")
    .render_derived()
)
_LOCK_STOCK = (
    select(stock)
    .where(tuple_(stock.c.warehouse_id, stock.c.sku).in_(_WANTED_KEYS))
    .order_by(stock.c.warehouse_id, stock.c.sku)
    .with_for_update()
)


async def lock_stock(session: AsyncSession, keys: Iterable[StockKey]) -> dict[StockKey, StockRow]:
    """SELECT ... FOR UPDATE in (warehouse, SKU) order, so concurrent orders never deadlock."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    result = await session.execute(
        _LOCK_STOCK,
        {"warehouse_ids": [w for w, _ in wanted], "skus": [s for _, s in wanted]},
    )
    return {(r.warehouse_id, r.sku): stock_record(r) for r in result}


async def get_stock(session: AsyncSession, warehouse_id: str, sku: str) -> StockRow | None:
    row = (
        await session.execute(
            select(stock).where(stock.c.warehouse_id == warehouse_id, stock.c.sku == sku)
        )
    ).first()
    return None if row is None else stock_record(row)


async def list_stock(
    session: AsyncSession,
    *,
    warehouse_id: str | None,
    low_stock: bool | None,
    slow_moving: bool | None = None,
    paging: Paging,
) -> tuple[list[StockRow], int]:
    query = filtered(
        select(stock),
        equal(stock.c.warehouse_id, warehouse_id),
        equal(stock.c.low_stock, low_stock),
        equal(stock.c.slow_moving_flagged_at.is_not(None), slow_moving),
    )
    rows, total = await fetch_page(session, query, paging, stock.c.warehouse_id, stock.c.sku)
    return [stock_record(r) for r in rows], total


async def insert_stock_if_new(
    session: AsyncSession,
    *,
    warehouse_id: str,
    sku: str,
    name: str,
    safety_threshold: int | None,
    at: datetime,
) -> bool:
    """Creates the SKU with no stock; False if the warehouse already has it."""
    result = await session.execute(
        insert(stock)
        .values(
            warehouse_id=warehouse_id,
            sku=sku,
            name=name,
            safety_threshold=safety_threshold,
            created_at=at,
            updated_at=at,
        )
        .on_conflict_do_nothing(index_elements=["warehouse_id", "sku"])
        .returning(stock.c.sku)
    )
    return result.first() is not None


async def update_stock_details(
    session: AsyncSession,
    *,
    key: StockKey,
    name: str,
    safety_threshold: int | None,
    at: datetime,
) -> bool:
    """Sets name and threshold; False when both were already so (updated_at left alone)."""
    result = await session.execute(
        update(stock)
        .where(
            stock.c.warehouse_id == key[0],
            stock.c.sku == key[1],
            or_(
                stock.c.name.is_distinct_from(name),
                stock.c.safety_threshold.is_distinct_from(safety_threshold),
            ),
        )
        .values(name=name, safety_threshold=safety_threshold, updated_at=at)
        .returning(stock.c.sku)
    )
    return result.first() is not None


async def apply_stock_delta(
    session: AsyncSession,
    *,
    key: StockKey,
    on_hand_delta: int,
    reserved_delta: int,
    at: datetime,
    sold_at: datetime | None = None,
) -> StockRow:
    """Relative update, so the CHECK constraints judge the real row; a sale ends a slow streak."""
    values: dict[str, Any] = {
        "on_hand": stock.c.on_hand + on_hand_delta,
        "reserved": stock.c.reserved + reserved_delta,
        "updated_at": at,
    }
    if sold_at is not None:
        values["last_sale_at"] = func.greatest(
            func.coalesce(stock.c.last_sale_at, sold_at), sold_at
        )
        values["slow_moving_flagged_at"] = None
    result = await session.execute(
        update(stock)
        .where(stock.c.warehouse_id == key[0], stock.c.sku == key[1])
        .values(values)
        .returning(*stock.columns)
    )
    return stock_record(result.one())


# Several rows' relative changes in one statement; the CHECK constraints judge each real row.
_APPLY_DELTAS = text(
    """
    UPDATE stock SET
        on_hand = stock.on_hand + change.on_hand_delta,
        reserved = stock.reserved + change.reserved_delta,
        updated_at = :at
    FROM unnest(:warehouse_ids, :skus, :on_hand_deltas, :reserved_deltas)
        AS change(warehouse_id, sku, on_hand_delta, reserved_delta)
    WHERE stock.warehouse_id = change.warehouse_id AND stock.sku = change.sku
    RETURNING stock.*
    """
).bindparams(
    bindparam("at", type_=DateTime(timezone=True)),
    bindparam("warehouse_ids", type_=ARRAY(Text)),
    bindparam("skus", type_=ARRAY(Text)),
    bindparam("on_hand_deltas", type_=ARRAY(Integer)),
    bindparam("reserved_deltas", type_=ARRAY(Integer)),
)


async def apply_stock_deltas(
    session: AsyncSession, deltas: Mapping[StockKey, tuple[int, int]], *, at: datetime
) -> dict[StockKey, StockRow]:
    """(on_hand, reserved) deltas for several rows; the rows after, by key."""
    if not deltas:
        return {}
    keys = sorted(deltas)
    result = await session.execute(
        _APPLY_DELTAS,
        {
            "at": at,
            "warehouse_ids": [k[0] for k in keys],
            "skus": [k[1] for k in keys],
            "on_hand_deltas": [deltas[k][0] for k in keys],
            "reserved_deltas": [deltas[k][1] for k in keys],
        },
    )
    rows = {(r.warehouse_id, r.sku): stock_record(r) for r in result}
    if len(rows) != len(keys):
        raise RuntimeError(f"stock rows missing: {sorted(set(keys) - set(rows))}")
    return rows


async def set_low_stock(session: AsyncSession, key: StockKey, *, latched: bool) -> None:
    await session.execute(
        update(stock)
        .where(stock.c.warehouse_id == key[0], stock.c.sku == key[1])
        .values(low_stock=latched)
    )


async def count_low_stock(session: AsyncSession) -> int:
    total = await session.execute(select(func.count()).select_from(stock).where(stock.c.low_stock))
    return int(total.scalar() or 0)


async def flag_slow_moving(
    session: AsyncSession, *, cutoff: datetime, now: datetime, batch_size: int
) -> list[StockRow]:
    """Marks SKUs in stock with no sale since `cutoff` and not flagged since; rows in use wait."""
    since = func.coalesce(stock.c.last_sale_at, stock.c.created_at)
    due = (
        select(stock.c.warehouse_id, stock.c.sku)
        .where(
            stock.c.on_hand > 0,
            since <= cutoff,
            or_(stock.c.slow_moving_flagged_at.is_(None), stock.c.slow_moving_flagged_at < since),
        )
        .order_by(stock.c.warehouse_id, stock.c.sku)
        .limit(batch_size)
        .with_for_update(skip_locked=True)
    )
    keys = [(r.warehouse_id, r.sku) for r in await session.execute(due)]
    if not keys:
        return []
    result = await session.execute(
        update(stock)
        .where(tuple_(stock.c.warehouse_id, stock.c.sku).in_(_WANTED_KEYS))
        .values(slow_moving_flagged_at=now)
        .returning(*stock.columns),
        {"warehouse_ids": [w for w, _ in keys], "skus": [s for _, s in keys]},
    )
    return sorted((stock_record(r) for r in result), key=lambda r: r.key)
