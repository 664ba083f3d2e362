"""The review state of orders under row lock and the decisions written back: status,
findings, stock outcome, accepted findings, each with its history row."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    DateTime,
    Text,
    bindparam,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from lvyue.common.contracts.order import CanonicalOrder, accepted
from lvyue.common.records import from_row
from lvyue.common.sql import any_of
from lvyue.order_review.domain.rules.acceptance import Acceptance
from lvyue.order_review.domain.status import OrderStatus
from lvyue.order_review.tables import (
    order_status_history,
    orders,
)


@dataclass(frozen=True)
class ReviewState:
    """What review needs of an order, read under a row lock."""

    id: uuid.UUID
    status: str
    order: CanonicalOrder
    stock_status: str | None
    stock: dict[str, Any] | None
    warehouse_id: str | None
    acceptances: tuple[Acceptance, ...] = ()


async def lock_order(session: AsyncSession, order_id: uuid.UUID) -> ReviewState | None:
    return (await lock_orders(session, [order_id])).get(order_id)


# Row locks taken in id order, so two batches never wait on each other in a circle.
_LOCK_ORDERS = (
    select(orders).where(any_of(orders.c.id, name="ids")).order_by(orders.c.id).with_for_update()
)


async def lock_orders(
    session: AsyncSession, order_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ReviewState]:
    """lock_order for several orders in one statement; those that exist, by id."""
    rows = await session.execute(_LOCK_ORDERS, {"ids": list(order_ids)})
    return {
        row.id: from_row(
            ReviewState,
            row,
            order=CanonicalOrder.model_validate(row.order, context=accepted()),
            acceptances=tuple(Acceptance.from_json(a) for a in row.acceptances),
        )
        for row in rows
    }


async def set_stock_outcome(
    session: AsyncSession,
    *,
    order_id: uuid.UUID,
    stock_status: str | None,
    stock: dict[str, Any] | None,
    warehouse_id: str | None,
) -> None:
    await session.execute(
        update(orders)
        .where(orders.c.id == order_id)
        .values(stock_status=stock_status, stock=stock, warehouse_id=warehouse_id)
    )


@dataclass(frozen=True)
class StockColumns:
    """Inventory's answer as the order row keeps it."""

    stock_status: str | None
    stock: dict[str, Any] | None
    warehouse_id: str | None


async def set_status(
    session: AsyncSession,
    *,
    order_id: uuid.UUID,
    status: OrderStatus,
    at: datetime,
    findings: list[dict[str, str]] | None = None,
    note: str = "",
    stock: StockColumns | None = None,
    accepted: Sequence[Acceptance] = (),
) -> None:
    """The order's new status (and findings, stock outcome) with its history row, in one
    statement; `accepted`: the acceptances the decision relied on, for the history."""
    values: dict[str, Any] = {"status": status, "updated_at": at}
    if findings is not None:
        values["findings"] = findings
    if stock is not None:
        values.update(vars(stock))
    changed = update(orders).where(orders.c.id == order_id).values(**values)
    changed_cte = changed.returning(orders.c.id).cte("changed")
    details = _details(findings, accepted)
    await session.execute(
        insert(order_status_history).from_select(
            ["order_id", "status", "at", "note", "details"],
            select(
                changed_cte.c.id,
                literal(str(status), Text),
                literal(at, DateTime(timezone=True)),
                literal(note, Text),
                literal(details, JSONB),
            ),
        )
    )


def _details(
    findings: list[dict[str, str]] | None, accepted: Sequence[Acceptance]
) -> dict[str, Any]:
    details: dict[str, Any] = {"findings": findings} if findings else {}
    if accepted:
        details["accepted"] = [_public(a) for a in accepted]
    return details


def _public(acceptance: Acceptance) -> dict[str, Any]:
    shown = acceptance.to_json()
    del shown["fingerprint"]
    return shown


# A reviewed order's status, findings and stock outcome with its history row; executed with
# many parameter sets, one round trip for a whole batch.
_REVIEWED = text(
    """
    WITH changed AS (
        UPDATE orders SET status = :status, updated_at = :at, findings = :findings,
            stock_status = :stock_status, stock = :stock, warehouse_id = :warehouse_id
        WHERE id = :id
        RETURNING id
    )
    INSERT INTO order_status_history (order_id, status, at, note, details)
    SELECT id, :status, :at, '', :details FROM changed
    """
).bindparams(
    bindparam("at", type_=DateTime(timezone=True)),
    bindparam("findings", type_=JSONB),
    bindparam("stock", type_=JSONB),
    bindparam("details", type_=JSONB),
)


@dataclass(frozen=True)
class ReviewDecision:
    order_id: uuid.UUID
    status: OrderStatus
    findings: list[dict[str, str]]
    stock: StockColumns
    accepted: Sequence[Acceptance] = ()


async def record_decisions(
    session: AsyncSession, decisions: Sequence[ReviewDecision], *, at: datetime
) -> None:
    """set_status (with findings and stock outcome) for many orders in one round trip."""
    if not decisions:
        return
    await session.execute(
        _REVIEWED,
        [
            {
                "id": d.order_id,
                "status": str(d.status),
                "at": at,
                "findings": d.findings,
                "stock_status": d.stock.stock_status,
                "stock": d.stock.stock,
                "warehouse_id": d.stock.warehouse_id,
                "details": _details(d.findings, d.accepted),
            }
            for d in decisions
        ],
    )


# The acceptance appended to the order, its findings narrowed to those still open, and a
# history row saying who accepted what and why; the status and updated_at (when it was
# flagged, for the queue) stay as they are.
_ACCEPTED = text(
    """
    WITH changed AS (
        UPDATE orders SET acceptances = acceptances || :acceptance, findings = :findings
        WHERE id = :id
        RETURNING id, status
    )
    INSERT INTO order_status_history (order_id, status, at, note, details)
    SELECT id, status, :at, :note, :details FROM changed
    """
).bindparams(
    bindparam("acceptance", type_=JSONB),
    bindparam("findings", type_=JSONB),
    bindparam("at", type_=DateTime(timezone=True)),
    bindparam("details", type_=JSONB),
)


async def add_acceptance(
    session: AsyncSession,
    *,
    order_id: uuid.UUID,
    acceptance: Acceptance,
    remaining: list[dict[str, str]],
    note: str,
) -> None:
    await session.execute(
        _ACCEPTED,
        {
            "id": order_id,
            "acceptance": [acceptance.to_json()],
            "findings": remaining,
            "at": acceptance.at,
            "note": note,
            "details": {"accepted": [_public(acceptance)], "findings": remaining},
        },
    )
