"""Fulfilment dispatched an exchange's replacement: the exchange is completed.

Unlike the other commands, this one runs inside the consumer's unit of work: the runner
records the inbox row and commits, so the command never commits.

What it cannot apply (an unknown aftersale id, a case that is not an exchange waiting for its
replacement) is logged as a warning and skipped, not raised. Raising would only retry the same
message and then park it on the dead-letter topic, and neither helps: the case moves to
awaiting_replacement in the same transaction that stages aftersale.replacement_requested, so
fulfilment cannot dispatch a replacement before the case waits for it; if the case is not
there, waiting will not bring it. The warning names the ids for whoever investigates.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import structlog

from lvyue.aftersales import repository
from lvyue.aftersales.domain.transitions import (
    Action,
    TransitionNotAllowed,
    already_done,
    next_state,
)
from lvyue.common.uow import UnitOfWork

log = structlog.get_logger(__name__)

FULFILMENT = "event:fulfilment"


@dataclass(frozen=True)
class RecordReplacementDispatch:
    case_id: uuid.UUID
    shipment_id: uuid.UUID
    carrier: str
    tracking_number: str
    dispatched_at: datetime
    actor: str = FULFILMENT


async def record_replacement_dispatch(uow: UnitOfWork, cmd: RecordReplacementDispatch) -> None:
    """Records the replacement's shipment, carrier, tracking number and dispatch time on the
    case and completes it; a repeat for a completed case changes nothing."""
    case = await repository.get_case(uow.session, cmd.case_id, lock=True)
    ids = {"aftersale_id": str(cmd.case_id), "shipment_id": str(cmd.shipment_id)}
    if case is None:
        log.warning("replacement_dispatch_unknown_case", **ids)
        return
    if already_done(case.type, Action.SHIP_REPLACEMENT, case.state):
        recorded = case.replacement
        if recorded is None or recorded.shipment_id != cmd.shipment_id:
            # Completed by another parcel, or before replacements were recorded: keep it.
            log.warning(
                "replacement_dispatch_for_completed_case",
                recorded_shipment_id=str(recorded.shipment_id) if recorded else None,
                **ids,
            )
        return
    try:
        to = next_state(case.type, Action.SHIP_REPLACEMENT, case.state)
    except TransitionNotAllowed as refused:
        log.warning("replacement_dispatch_ignored", type=str(case.type), reason=str(refused), **ids)
        return
    now = uow.clock.now()
    await repository.update_case(
        uow.session, case.id, state=to,
        replacement_shipment_id=cmd.shipment_id, replacement_carrier=cmd.carrier,
        replacement_tracking_number=cmd.tracking_number,
        replacement_dispatched_at=cmd.dispatched_at, updated_at=now,
    )  # fmt: skip
    await repository.add_history(
        uow.session, case_id=case.id, state=to, at=now, actor=cmd.actor,
        note=f"replacement dispatched: {cmd.carrier} {cmd.tracking_number}",
    )  # fmt: skip
