"""The abnormal queue operators work: contacts recorded and the queue read with each
order's contact deadline (the kernel's deadlines, read through its store)."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Text,
    cast,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select, Subquery

from lvyue.common.deadlines.store import latest_per_subject
from lvyue.common.paging import Paging, fetch_page
from lvyue.order_review.domain.slas import CONTACT_SLA
from lvyue.order_review.domain.status import OrderStatus
from lvyue.order_review.tables import (
    customer_contacts,
    orders,
)


@dataclass(frozen=True)
class Contact:
    """An operator's contact with the buyer about an abnormal order, as stored."""

    order_id: uuid.UUID
    channel: str
    outcome: str
    note: str
    actor: str
    at: datetime


async def add_contact(session: AsyncSession, contact: Contact) -> None:
    await session.execute(customer_contacts.insert().values(**asdict(contact)))


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
    paging: Paging = Paging(),
) -> tuple[list[QueueEntry], int]:
    """Abnormal orders, soonest contact deadline first (those already contacted last), and
    how many match the filters in all."""
    latest = latest_per_subject(CONTACT_SLA)  # the kernel's deadlines, read its way
    contact_count = (
        select(func.count()).where(customer_contacts.c.order_id == orders.c.id).scalar_subquery()
    )
    query = (
        select(  # labelled as QueueEntry's fields
            orders.c.id.label("order_id"),
            orders.c.platform,
            orders.c.shop_id,
            orders.c.platform_order_id,
            orders.c.findings,
            orders.c.updated_at.label("flagged_at"),
            latest.c.due_at.label("contact_due_at"),
            latest.c.state.label("contact_deadline_state"),
            contact_count.label("contacts"),
        )
        .select_from(orders.outerjoin(latest, latest.c.subject == cast(orders.c.id, Text)))
        .where(orders.c.status == OrderStatus.ABNORMAL)
    )
    query = _filtered(
        query, latest, now=now, reason=reason, platform=platform, shop_id=shop_id, overdue=overdue
    )
    rows, total = await fetch_page(
        session,
        query,
        paging,
        latest.c.closed_at.is_not(None),
        latest.c.due_at.asc().nulls_last(),
        orders.c.id,
    )
    return [QueueEntry(**row._mapping) for row in rows], total


def _filtered(
    query: Select[Any],
    latest: Subquery,
    *,
    now: datetime,
    reason: str | None,
    platform: str | None,
    shop_id: str | None,
    overdue: bool | None,
) -> Select[Any]:
    """The queue narrowed by the operator's filters; `overdue`: the contact deadline passed
    unanswered (True), or not (False)."""
    if reason is not None:
        query = query.where(orders.c.findings.contains([{"reason": reason}]))
    if platform is not None:
        query = query.where(orders.c.platform == platform)
    if shop_id is not None:
        query = query.where(orders.c.shop_id == shop_id)
    if overdue is True:
        query = query.where(latest.c.closed_at.is_(None), latest.c.due_at < now)
    elif overdue is False:
        query = query.where(
            (latest.c.closed_at.is_not(None)) | (latest.c.due_at >= now) | latest.c.due_at.is_(None)
        )
    return query
