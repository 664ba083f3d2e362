"""GET /dead-letters and POST /dead-letters/{id}/redrive, served by every service for the
messages its consumer parked: what is waiting and why, and republishing one once its cause is
fixed (`redrive.py`). SRE's: a dead letter is a fault to mend, not an order to work."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aiokafka.errors import KafkaError
from fastapi import Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from lvyue.common.consumer.dead_letters import list_dead_letters
from lvyue.common.consumer.redrive import ForgottenByConsumers, redrive
from lvyue.common.openapi import examples, page_of, problem_responses
from lvyue.common.operator_header import OperatorName
from lvyue.common.paging import Page
from lvyue.common.problems import problem
from lvyue.common.query import FilterText, PagingDep
from lvyue.common.records import model_from
from lvyue.common.routing import api_router
from lvyue.common.security import GrantedRoles, Role, require_role

router = api_router(tags=["dead letters"])

Sre = Annotated[GrantedRoles, Depends(require_role(Role.SRE))]
LetterId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The dead letter's id.")]

_LETTER = {
    "id": 17,
    "consumer": "inventory",
    "topic": "prod.order.created",
    "partition": 1,
    "offset": 48213,
    "key": "0b9e4c52-6c1e-4a53-9d35-2f4f2f7f6a10",
    "event_id": "5d0c1f3e-8a0b-4a8e-9b1c-3c9d2e7f4a61",
    "event_type": "lvyue.order.created.v1",
    "error": "OperationalError: could not serialize access due to concurrent update",
    "attempts": 5,
    "headers": {"content-type": "application/cloudevents+json"},
    "value_bytes": 1874,
    "created_at": "2026-12-07T08:41:07Z",
    "redriven_at": None,
    "redriven_by": None,
}


class DeadLetterRead(BaseModel):
    model_config = examples(_LETTER)

    id: int
    consumer: str
    topic: str
    partition: int
    offset: int
    key: str | None
    event_id: str | None
    event_type: str | None
    error: str
    attempts: int
    headers: dict[str, Any]
    value_bytes: int  # the value itself stays on `<topic>.dlq` and in the table
    created_at: datetime
    redriven_at: datetime | None
    redriven_by: str | None


class DeadLetterPage(Page[DeadLetterRead]):
    model_config = examples(page_of(_LETTER))


class RedriveRead(BaseModel):
    model_config = examples(
        {
            "dead_letter": {
                **_LETTER,
                "redriven_at": "2026-12-07T09:02:11Z",
                "redriven_by": "sre-wu",
            },
            "republished": True,
        }
    )

    dead_letter: DeadLetterRead
    republished: bool


@router.get("/dead-letters", response_model=DeadLetterPage)
async def get_dead_letters(
    request: Request,
    _: Sre,
    paging: PagingDep,
    consumer: FilterText = None,
    redriven: Annotated[
        bool | None,
        Query(description="Only those republished already (true) or still waiting (false)."),
    ] = None,
) -> DeadLetterPage:
    """The messages this service's consumer parked after its last attempt, the latest first:
    where each came from, the error, and whether it was republished. The message's bytes are on
    `<topic>.dlq`."""
    async with request.app.state.kernel.uow() as uow:
        rows, total = await list_dead_letters(
            uow.session, paging, consumer=consumer, redriven=redriven
        )
    return DeadLetterPage.of((model_from(DeadLetterRead, r) for r in rows), total, paging)


@router.post(
    "/dead-letters/{letter_id}/redrive",
    response_model=RedriveRead,
    responses=problem_responses(
        404,
        described={
            409: "Parked longer ago than the consumers' inboxes remember (the inbox retention "
            "less a day): nothing was republished; ask again with force=true only if applying "
            "its event twice does no harm.",
            503: "PostgreSQL or the broker cannot be reached: nothing was republished; retry "
            "after Retry-After seconds.",
        },
    ),
)
async def post_redrive(
    request: Request,
    letter_id: LetterId,
    _: Sre,
    by: OperatorName,
    force: Annotated[
        bool,
        Query(
            description="Republish even a dead letter parked longer ago than the consumers' "
            "inboxes remember; those that took its event then would apply it again."
        ),
    ] = False,
) -> RedriveRead | JSONResponse:
    """Republishes the parked message to the topic and partition it came from, as it came
        (value, key, headers), and records when and by whom (X-Operator). Fix its cause first: the
        consumer that parked it takes it again (and parks it anew if it fails again); consumers that
        took it before skip it by its event id, for as long as their inboxes remember it (409 after
    that, unless `force`). Idempotent: a dead letter already republished is
        answered as it stands, `republished: false`, and nothing is sent."""
    kernel = request.app.state.kernel
    try:
        done = await redrive(kernel, letter_id, by=by, force=force)
    except ForgottenByConsumers as exc:
        return problem(409, str(exc))
    except (KafkaError, TimeoutError) as exc:
        return problem(
            503,
            f"broker unavailable ({type(exc).__name__}): nothing was republished, try again later",
            headers={"Retry-After": str(kernel.settings.unavailable_retry_after_s)},
        )
    if done is None:
        return problem(404, f"dead letter {letter_id} not found")
    return RedriveRead(
        dead_letter=model_from(DeadLetterRead, done.letter), republished=done.republished
    )
