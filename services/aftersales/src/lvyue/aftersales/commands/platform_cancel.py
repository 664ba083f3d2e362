"""A platform's cancellation of an order already dispatched (order.cancel_after_dispatch): the
parcel is on its way, so the buyer's money comes back with the goods. Aftersales opens a
return-and-refund case for everything shipped, once per order, in the handler's transaction;
from there it runs as any case (24 h to answer, the warehouse records the return, 48 h to
refund after it arrives)."""

from __future__ import annotations

from lvyue.aftersales.commands.context import CaseContext
from lvyue.aftersales.commands.intake import OpenCase, opened_before, shipped_order, stage_case
from lvyue.aftersales.domain import CaseType, Reason, Source
from lvyue.common.events.catalog import CancelAfterDispatch
from lvyue.common.uow import UnitOfWork


async def open_case_for_cancel(
    cancel: CancelAfterDispatch, uow: UnitOfWork, ctx: CaseContext
) -> bool:
    """True when the case was opened now; False when the cancellation opened one before."""
    order = await shipped_order(uow, cancel.order_id)
    cmd = OpenCase(
        order=cancel.order_id,
        type=CaseType.RETURN_AND_REFUND,
        reason=Reason.OTHER,
        description=f"cancelled on {cancel.platform} after dispatch: {cancel.reason}"[:500],
        lines=tuple((sku, quantity) for sku, (quantity, _) in sorted(order.ordered().items())),
        requested_amount=None,
        source=Source.WEBHOOK,  # the platform's word, as its after-sale pushes are
        actor=f"{cancel.platform} (order sync)",
        idempotency_key=f"cancel-after-dispatch:{cancel.order_id}",
    )
    if await opened_before(uow, cmd) is not None:
        return False
    return await stage_case(uow, cmd, ctx) is not None
