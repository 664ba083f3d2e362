"""Opening an after-sale case, from a platform webhook or an operator, at most once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from lvyue.aftersales import metrics, repository
from lvyue.aftersales.api.schemas import CaseRead
from lvyue.aftersales.commands.context import CaseContext
from lvyue.aftersales.commands.errors import OrderNotFound, OrderNotShipped
from lvyue.aftersales.commands.views import case_view
from lvyue.aftersales.domain import (
    RESPONSE_SLA,
    CaseState,
    CaseType,
    Reason,
    Source,
    case_lines,
    check_refundable,
)
from lvyue.aftersales.repository import Case, ShippedOrder
from lvyue.aftersales.repository.records import case_lines_json
from lvyue.common.uow import UnitOfWork
from lvyue.common.webhooks.deliveries import Delivery


@dataclass(frozen=True)
class PlatformOrderRef:
    """The order as the platform names it; shop_id None: found by the platform's order id
    alone (the platforms' after-sale pushes name no shop aftersales knows)."""

    platform: str
    shop_id: str | None
    platform_order_id: str


@dataclass(frozen=True)
class OpenCase:
    order: uuid.UUID | PlatformOrderRef
    type: CaseType
    reason: Reason
    description: str
    lines: tuple[tuple[str, int], ...]
    requested_amount: Decimal | None
    source: Source
    actor: str
    platform_aftersale_id: str | None = None
    idempotency_key: str | None = None
    delivery: Delivery | None = None


@dataclass(frozen=True)
class Opened:
    case: Case
    created: bool  # False: a repeat of a case opened before
    view: CaseRead | None = None  # the whole case, when asked for (the operators' API)


async def _shop(uow: UnitOfWork, ref: PlatformOrderRef) -> str:
    """The order's shop: the ref's, else looked up by (platform, platform_order_id); 404."""
    if ref.shop_id is not None:
        return ref.shop_id
    shop = await repository.shop_of_platform_order(
        uow.session, platform=ref.platform, platform_order_id=ref.platform_order_id
    )
    if shop is None:
        raise OrderNotFound(f"{ref.platform}/{ref.platform_order_id}")
    return shop


async def _earlier(uow: UnitOfWork, cmd: OpenCase) -> Case | None:
    """The case this request repeats: same delivery, idempotency key or platform case id."""
    session = uow.session
    if cmd.delivery is not None:
        case_id = await repository.case_for_delivery(
            session, platform=cmd.delivery.platform, delivery_id=cmd.delivery.delivery_id
        )
        if case_id is not None:
            return await repository.get_case(session, case_id)
    key = cmd.idempotency_key
    if key is not None and (case := await repository.case_by_idempotency_key(session, key)):
        return case
    if cmd.platform_aftersale_id is not None and isinstance(cmd.order, PlatformOrderRef):
        return await repository.case_by_platform_id(
            session,
            platform=cmd.order.platform,
            shop_id=await _shop(uow, cmd.order),
            platform_aftersale_id=cmd.platform_aftersale_id,
        )
    return None


async def shipped_order(
    uow: UnitOfWork, ref: uuid.UUID | PlatformOrderRef, *, lock: bool = True
) -> ShippedOrder:
    """The order, locked unless told (refunds are summed under this lock); 404 unknown,
    409 not shipped. Lock order: the order before its cases."""
    if isinstance(ref, PlatformOrderRef):
        found = await repository.find_order(
            uow.session,
            platform=ref.platform,
            shop_id=(shop := await _shop(uow, ref)),
            platform_order_id=ref.platform_order_id,
        )
        if found is None:
            raise OrderNotFound(f"{ref.platform}/{shop}/{ref.platform_order_id}")
        ref = found.order_id
    order = await repository.get_order(uow.session, ref, lock=lock)
    if order is None or not order.reviewed:
        raise OrderNotFound(str(ref))
    if order.shipped is None:
        raise OrderNotShipped(order.order_id)
    return order.shipped


async def _repeat(uow: UnitOfWork, cmd: OpenCase, case: Case, *, view: bool) -> Opened:
    read = await case_view(uow.session, case) if view else None
    if cmd.delivery is not None:
        await _record_delivery(uow, cmd.delivery, case)
        await uow.commit()
    return Opened(case, created=False, view=read)


async def _record_delivery(uow: UnitOfWork, delivery: Delivery, case: Case) -> None:
    await repository.record_delivery(
        uow.session, delivery, case_id=case.id, received_at=uow.clock.now()
    )


async def open_case(
    cmd: OpenCase, uow: UnitOfWork, ctx: CaseContext, *, view: bool = False
) -> Opened:
    """Stores the case and opens aftersale_response_24h; a repeat returns the first case.
    With `view`, the answer carries the case's read model, built in the same transaction."""
    async with uow:
        if (earlier := await opened_before(uow, cmd)) is not None:
            return await _repeat(uow, cmd, earlier, view=view)
        case = await stage_case(uow, cmd, ctx)
        if case is None:  # a concurrent repeat committed first
            earlier = await opened_before(uow, cmd)
            assert earlier is not None
            return await _repeat(uow, cmd, earlier, view=view)
        if cmd.delivery is not None:
            await _record_delivery(uow, cmd.delivery, case)
        read = await case_view(uow.session, case) if view else None
        await uow.commit()
    return Opened(case, created=True, view=read)


async def opened_before(uow: UnitOfWork, cmd: OpenCase) -> Case | None:
    """The case this request repeats (same delivery, idempotency key or platform case id)."""
    return await _earlier(uow, cmd)


async def stage_case(uow: UnitOfWork, cmd: OpenCase, ctx: CaseContext) -> Case | None:
    """The new case in the caller's transaction, with its history and 24 h deadline (an event
    handler's, which never commits, or open_case's); None when a concurrent repeat holds its
    keys."""
    order = await shipped_order(uow, cmd.order)
    case = await _insert(uow, cmd, order)
    if case is None:
        return None
    await repository.add_history(
        uow.session, case_id=case.id, state=case.state, at=case.requested_at,
        actor=cmd.actor, note=f"{cmd.type} requested: {cmd.reason}",
    )  # fmt: skip
    # rule aftersale_response_24h
    await ctx.open_deadline(uow, RESPONSE_SLA, case, case.requested_at)
    uow.after_commit(lambda: metrics.record_case(cmd.type, cmd.reason))
    return case


async def _insert(uow: UnitOfWork, cmd: OpenCase, order: ShippedOrder) -> Case | None:
    """The new case, requested now: its lines within what was shipped, its amount within
    what was paid minus earlier refunds; None when a concurrent repeat holds its keys."""
    lines = case_lines(cmd.lines, order.ordered())
    if cmd.requested_amount is not None:
        refunded = await repository.refunded_total(uow.session, order.order_id)
        check_refundable(cmd.requested_amount, paid_total=order.paid_total, refunded=refunded)
    now = uow.clock.now()
    case_id = uuid.uuid4()
    inserted = await repository.insert_case(
        uow.session,
        {
            "id": case_id,
            "order_id": order.order_id,
            "type": cmd.type,
            "reason": cmd.reason,
            "description": cmd.description,
            "lines": case_lines_json(lines),
            "requested_amount": cmd.requested_amount,
            "state": CaseState.REQUESTED,
            "source": cmd.source,
            "platform": order.platform,
            "shop_id": order.shop_id,
            "platform_aftersale_id": cmd.platform_aftersale_id,
            "idempotency_key": cmd.idempotency_key,
            "requested_at": now,
            "updated_at": now,
        },
    )
    return await repository.get_case(uow.session, case_id) if inserted else None
