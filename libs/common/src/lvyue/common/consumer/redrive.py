"""Republishing a parked message once its cause is fixed: the value, key and headers it came
with, to the topic and partition it came from. Every lvyue consumer dedupes by event id, so the
consumers that took it the first time change nothing and the one that parked it handles it
now, or parks it again as a new dead letter if the cause is still there.

The row is locked while its message is republished and marked redriven in the same
transaction: two requests never republish it twice, and a repeated request republishes
nothing. Should the commit fail after the broker took the message, the row stays unmarked and
a later redrive sends it once more, which the consumers' dedupe absorbs. That dedupe lasts
as long as the inboxes keep their rows (`retention.py`): a dead letter parked longer ago than
that is republished only when asked with force.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from prometheus_client import Counter
from sqlalchemy import Row

from lvyue.common.bootstrap import Kernel
from lvyue.common.consumer.dead_letters import (
    dead_letter_view,
    kafka_headers,
    lock_dead_letter,
    mark_redriven,
)
from lvyue.common.retention import Retention

log = structlog.get_logger(__name__)
PUBLISH_TIMEOUT_S = 10.0  # an operator waits on the answer: a broker away is a 503, not a hang

REDRIVEN = Counter(
    "lvyue_consumer_dead_letters_redriven_total",
    "Parked messages republished to their topic by an operator (POST /dead-letters/{id}/redrive)",
    ["consumer"],
)


class ForgottenByConsumers(Exception):
    """The dead letter was parked longer ago than the consumers' inboxes remember: those that
    took its event then would take it again."""

    def __init__(self, letter_id: int, parked_for: timedelta, redrivable_for: timedelta) -> None:
        self.letter_id = letter_id
        super().__init__(
            f"dead letter {letter_id} was parked {parked_for.days} days ago; consumers remember "
            f"the events they took for LVYUE_INBOX_RETENTION_DAYS, so a redrive is safe for "
            f"{redrivable_for.days} days: those that took this event would apply it again. "
            "Republish it with force=true only if applying it twice does no harm"
        )


@dataclass(frozen=True)
class Redrive:
    letter: Row[Any]  # as the list shows it
    republished: bool  # False: an earlier request had republished it


async def redrive(
    kernel: Kernel, letter_id: int, *, by: str | None, force: bool = False
) -> Redrive | None:
    """Republishes the dead letter `letter_id` unless it was already; None if there is none.
    Raises ForgottenByConsumers for one parked too long ago (unless `force`), and what the
    producer raises (KafkaError, TimeoutError), with nothing marked."""
    async with kernel.uow() as uow:
        row = await lock_dead_letter(uow.session, letter_id)
        if row is None:
            return None
        if row.redriven_at is not None:
            return Redrive(await dead_letter_view(uow.session, letter_id), republished=False)
        redrivable_for = Retention.of(kernel.settings).redrivable_for()
        if row.parked_for > redrivable_for and not force:
            raise ForgottenByConsumers(letter_id, row.parked_for, redrivable_for)
        await asyncio.wait_for(
            kernel.producer.send_and_wait(
                row.topic,
                value=row.value,
                # Stored as text: a key that was not UTF-8 keeps its \xNN escapes; the explicit
                # partition keeps the message where its key had put it.
                key=row.key.encode("utf-8") if row.key is not None else None,
                headers=kafka_headers(row.headers),
                partition=row.partition,
            ),
            PUBLISH_TIMEOUT_S,
        )
        letter = await mark_redriven(uow.session, letter_id, at=uow.clock.now(), by=by)
        await uow.commit()
    REDRIVEN.labels(row.consumer).inc()  # the waiting gauge follows at its next count
    log.info(
        "dead_letter_redriven", dead_letter=letter_id, consumer=row.consumer, topic=row.topic,
        partition=row.partition, offset=row.offset, event_id=row.event_id, by=by,
    )  # fmt: skip
    return Redrive(letter, republished=True)
