"""All SQL of order-review: it receives a session and returns plain values or domain records."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    Boolean,
    DateTime,
    Text,
    Uuid,
    bindparam,
    cast,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from lvyue.common.contracts.order import CanonicalOrder
from lvyue.common.deadlines.store import latest_per_subject
from lvyue.order_review.domain.rules.acceptance import Acceptance
from lvyue.order_review.domain.slas import CONTACT_SLA
from lvyue.order_review.domain.status import OrderStatus
from lvyue.order_review.tables import (
    customer_contacts,
    order_status_history,
    orders,
    webhook_deliveries,
)


@dataclass(frozen=True)
class StatusChange:
    status: str
    at: datetime
    note: str
    details: dict[str, Any]


@dataclass(frozen=True)
class OrderRecord:
    id: uuid.UUID
    status: str
    received_at: datetime
    updated_at: datetime
    order: CanonicalOrder
    history: list[StatusChange]
    acceptances: tuple[Acceptance, ...] = ()


async def order_for_delivery(
    session: AsyncSession, *, platform: str, delivery_id: str
) -> uuid.UUID | None:
    result = await session.execute(
        select(webhook_deliveries.c.order_id).where(
            webhook_deliveries.c.platform == platform,
            webhook_deliveries.c.delivery_id == delivery_id,
        )
    )
    return result.scalar_one_or_none()


@dataclass(frozen=True)
class NewOrder:
    """An order as a webhook delivered it, to be stored unless it or the delivery is known."""

    id: uuid.UUID
    order: CanonicalOrder
    delivery_platform: str
    delivery_id: str
    body: str


# One round trip for a batch of new orders: each order, its first status and the delivery that
# brought it. An order is skipped when its delivery was received before or (platform, shop,
# platform order id) exists already, also earlier in the same batch. Rows go in key order so
# two transactions inserting the same orders wait for each other instead of deadlocking.
_INSERT_NEW_ORDERS = text(
    """
    WITH wanted AS (
        SELECT * FROM unnest(:ids, :platforms, :shop_ids, :platform_order_ids, :urgent,
                             :promotion, :paid_at, :orders, :delivery_platforms,
                             :delivery_ids, :bodies)
            AS w(id, platform, shop_id, platform_order_id, urgent, promotion, paid_at,
                 "order", delivery_platform, delivery_id, body)
    ), new_order AS (
        INSERT INTO orders (id, platform, shop_id, platform_order_id, status, urgent, promotion,
                            paid_at, received_at, updated_at, "order")
        SELECT w.id, w.platform, w.shop_id, w.platform_order_id, :status, w.urgent,
               w.promotion, w.paid_at, :received_at, :received_at, w."order"::jsonb
        FROM wanted AS w
        WHERE NOT EXISTS (
            SELECT FROM webhook_deliveries AS d
            WHERE d.platform = w.delivery_platform AND d.delivery_id = w.delivery_id)
        ORDER BY w.platform, w.shop_id, w.platform_order_id
        ON CONFLICT (platform, shop_id, platform_order_id) DO NOTHING
        RETURNING id
    ), first_status AS (
        INSERT INTO order_status_history (order_id, status, at)
        SELECT id, :status, :received_at FROM new_order
    ), delivery AS (
        INSERT INTO webhook_deliveries (platform, delivery_id, order_id, received_at, body)
        SELECT w.delivery_platform, w.delivery_id, n.id, :received_at, w.body
        FROM new_order AS n JOIN wanted AS w USING (id)
        ON CONFLICT DO NOTHING
    )
    SELECT id FROM new_order
    """
).bindparams(
    bindparam("ids", type_=ARRAY(Uuid)),
    bindparam("platforms", type_=ARRAY(Text)),
    bindparam("shop_ids", type_=ARRAY(Text)),
    bindparam("platform_order_ids", type_=ARRAY(Text)),
    bindparam("urgent", type_=ARRAY(Boolean)),
    bindparam("promotion", type_=ARRAY(Boolean)),
    bindparam("paid_at", type_=ARRAY(DateTime(timezone=True))),
    bindparam("orders", type_=ARRAY(Text)),
    bindparam("delivery_platforms", type_=ARRAY(Text)),
    bindparam("delivery_ids", type_=ARRAY(Text)),
    bindparam("bodies", type_=ARRAY(Text)),
    bindparam("received_at", type_=DateTime(timezone=True)),
)


async def insert_new_orders(
    session: AsyncSession, new: Sequence[NewOrder], *, received_at: datetime
) -> set[uuid.UUID]:
    """Inserts each order (pending review) and its delivery unless the delivery is known or
    (platform, shop, platform order id) exists; the ids of those inserted."""
    if not new:
        return set()
    result = await session.execute(
        _INSERT_NEW_ORDERS,
        {
            "ids": [n.id for n in new],
            "platforms": [n.order.platform for n in new],
            "shop_ids": [n.order.shop_id for n in new],
            "platform_order_ids": [n.order.platform_order_id for n in new],
            "urgent": [n.order.urgent for n in new],
            "promotion": [n.order.promotion for n in new],
            "paid_at": [n.order.paid_at for n in new],
            # pydantic's own serializer: the same JSON as model_dump(mode="json"), faster
            "orders": [n.order.model_dump_json() for n in new],
            "delivery_platforms": [n.delivery_platform for n in new],
            "delivery_ids": [n.delivery_id for n in new],
            "bodies": [n.body for n in new],
            "status": OrderStatus.PENDING_REVIEW,
            "received_at": received_at,
        },
    )
    return set(result.scalars())


async def order_id_for(
    session: AsyncSession, *, platform: str, shop_id: str, platform_order_id: str
) -> uuid.UUID:
    result = await session.execute(
        select(orders.c.id).where(
            orders.c.platform == platform,
            orders.c.shop_id == shop_id,
            orders.c.platform_order_id == platform_order_id,
        )
    )
    order_id: uuid.UUID = result.scalar_one()
    return order_id


async def record_delivery(
    session: AsyncSession,
    *,
    platform: str,
    delivery_id: str,
    order_id: uuid.UUID,
    received_at: datetime,
    body: str,
) -> None:
    await session.execute(
        insert(webhook_deliveries)
        .values(
            platform=platform,
            delivery_id=delivery_id,
            order_id=order_id,
            received_at=received_at,
            body=body,
        )
        .on_conflict_do_nothing()
    )


async def add_status(
    session: AsyncSession,
    *,
    order_id: uuid.UUID,
    status: OrderStatus,
    at: datetime,
    note: str = "",
    details: dict[str, Any] | None = None,
) -> None:
    await session.execute(
        order_status_history.insert().values(
            order_id=order_id, status=status, at=at, note=note, details=details or {}
        )
    )


async def get_order(session: AsyncSession, order_id: uuid.UUID) -> OrderRecord | None:
    row = (await session.execute(select(orders).where(orders.c.id == order_id))).first()
    if row is None:
        return None
    history = await session.execute(
        select(order_status_history)
        .where(order_status_history.c.order_id == order_id)
        .order_by(order_status_history.c.id)
    )
    return OrderRecord(
        id=row.id,
        status=row.status,
        received_at=row.received_at,
        updated_at=row.updated_at,
        order=CanonicalOrder.model_validate(row.order),
        history=[StatusChange(h.status, h.at, h.note, h.details) for h in history],
        acceptances=tuple(Acceptance.from_json(a) for a in row.acceptances),
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
    select(orders)
    .where(orders.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(orders.c.id)
    .with_for_update()
)


async def lock_orders(
    session: AsyncSession, order_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ReviewState]:
    """lock_order for several orders in one statement; those that exist, by id."""
    rows = await session.execute(_LOCK_ORDERS, {"ids": list(order_ids)})
    return {
        row.id: ReviewState(
            id=row.id,
            status=row.status,
            order=CanonicalOrder.model_validate(row.order),
            stock_status=row.stock_status,
            stock=row.stock,
            warehouse_id=row.warehouse_id,
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


async def replace_order(
    session: AsyncSession, *, order_id: uuid.UUID, order: CanonicalOrder, at: datetime
) -> None:
    await session.execute(
        update(orders)
        .where(orders.c.id == order_id)
        .values(
            order=order.model_dump(mode="json"),
            urgent=order.urgent,
            promotion=order.promotion,
            updated_at=at,
        )
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


async def add_contact(
    session: AsyncSession,
    *,
    order_id: uuid.UUID,
    channel: str,
    outcome: str,
    note: str,
    actor: str,
    at: datetime,
) -> None:
    await session.execute(
        customer_contacts.insert().values(
            order_id=order_id, channel=channel, outcome=outcome, note=note, actor=actor, at=at
        )
    )


@dataclass(frozen=True)
class QueueEntry:
    order_id: uuid.UUID
    platform: str
    shop_id: str
    platform_order_id: str
    findings: list[dict[str, str]]
    flagged_at: datetime
    contact_due_at: datetime | None
    contact_deadline_state: str | None
    contacts: int


async def abnormal_queue(
    session: AsyncSession,
    *,
    now: datetime,
    reason: str | None = None,
    platform: str | None = None,
    shop_id: str | None = None,
    overdue: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[QueueEntry], int]:
    """Abnormal orders, soonest contact deadline first (those already contacted last), and
    how many match the filters in all."""
    latest = latest_per_subject(CONTACT_SLA)  # the kernel's deadlines, read its way
    contact_count = (
        select(func.count()).where(customer_contacts.c.order_id == orders.c.id).scalar_subquery()
    )
    query = (
        select(
            orders.c.id,
            orders.c.platform,
            orders.c.shop_id,
            orders.c.platform_order_id,
            orders.c.findings,
            orders.c.updated_at,
            latest.c.due_at,
            latest.c.state,
            contact_count.label("contacts"),
        )
        .select_from(orders.outerjoin(latest, latest.c.subject == cast(orders.c.id, Text)))
        .where(orders.c.status == OrderStatus.ABNORMAL)
    )
    if reason is not None:
        query = query.where(orders.c.findings.contains([{"reason": reason}]))
    if platform is not None:
        query = query.where(orders.c.platform == platform)
    if shop_id is not None:
        query = query.where(orders.c.shop_id == shop_id)
    if overdue is True:
        query = query.where(latest.c.closed_at.is_(None), latest.c.due_at <= now)
    elif overdue is False:
        query = query.where(
            (latest.c.closed_at.is_not(None)) | (latest.c.due_at > now) | latest.c.due_at.is_(None)
        )
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar()
    rows = await session.execute(
        query.order_by(
            latest.c.closed_at.is_not(None), latest.c.due_at.asc().nulls_last(), orders.c.id
        )
        .limit(limit)
        .offset(offset)
    )
    entries = [
        QueueEntry(
            order_id=r.id,
            platform=r.platform,
            shop_id=r.shop_id,
            platform_order_id=r.platform_order_id,
            findings=r.findings,
            flagged_at=r.updated_at,
            contact_due_at=r.due_at,
            contact_deadline_state=r.state,
            contacts=r.contacts,
        )
        for r in rows
    ]
    return entries, int(total or 0)


async def unchanged_since(
    session: AsyncSession, statuses: Sequence[str], cutoff: datetime
) -> dict[str, int]:
    """How many orders in each of `statuses` have not changed since `cutoff`."""
    rows = await session.execute(
        select(orders.c.status, func.count())
        .where(orders.c.status.in_(statuses), orders.c.updated_at < cutoff)
        .group_by(orders.c.status)
    )
    return {status: int(n) for status, n in rows.all()}
