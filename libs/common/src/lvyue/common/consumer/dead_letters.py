"""Dead letters: a message no handler could take, parked so its partition moves on.

Parking is total: whatever PostgreSQL text/jsonb refuses (U+0000, invalid UTF-8, a header
without a value) is escaped or base64-encoded, so no message content can stop its partition.
The row goes to the kernel's dead_letters table (the embedded broker keeps nothing across
restarts) and the message to `<topic>.dlq` with headers saying why. Once its cause is fixed, an
operator republishes it from the row (`redrive.py`); the queries for both are here.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from aiokafka import ConsumerRecord
from sqlalchemy import ColumnElement, Row, Select, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lvyue.common.events import Envelope
from lvyue.common.paging import Paging, equal, fetch_page, filtered
from lvyue.common.tables import dead_letters
from lvyue.common.uow import UnitOfWork


def dead_letter_headers(
    message: ConsumerRecord[Any, Any], *, consumer: str, error: str, attempts: int
) -> list[tuple[str, bytes | None]]:
    """The message's headers and why it was parked (error, consumer, attempts, origin)."""
    return [
        *(message.headers or []),
        ("lvyue_error", error.encode()[:4000]),
        ("lvyue_consumer", consumer.encode()),
        ("lvyue_attempts", str(attempts).encode()),
        ("lvyue_origin", f"{message.topic}/{message.partition}/{message.offset}".encode()),
    ]


async def record_dead_letter(
    uow: UnitOfWork,
    message: ConsumerRecord[Any, Any],
    envelope: Envelope | None,
    *,
    consumer: str,
    error: str,
    attempts: int,
) -> None:
    """The dead_letters row of the message, once per message: a rewind after a failed send to
    the dead-letter topic must not park it twice."""
    parked = select(
        exists().where(
            dead_letters.c.consumer == consumer,
            dead_letters.c.topic == message.topic,
            dead_letters.c.partition == message.partition,
            dead_letters.c.offset == message.offset,
        )
    )
    if (await uow.session.execute(parked)).scalar_one():
        return
    await uow.session.execute(
        dead_letters.insert().values(
            consumer=consumer,
            topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            key=storable_bytes(message.key) if message.key is not None else None,
            event_id=str(envelope.id) if envelope else None,
            event_type=storable_text(envelope.type) if envelope else None,
            error=error,
            attempts=attempts,
            headers=storable_headers(message.headers or ()),
            value=message.value or b"",
        )
    )


def storable_text(value: str) -> str:
    """`value` as PostgreSQL text accepts it: U+0000 and lone surrogates as backslash escapes."""
    text = value.encode("utf-8", "backslashreplace").decode("utf-8")
    return text.replace("\x00", "\\x00")


def storable_bytes(raw: bytes) -> str:
    """Raw bytes as readable text: invalid UTF-8 as \\xNN escapes (the exact bytes stay on the
    dead-letter topic)."""
    return storable_text(raw.decode("utf-8", "backslashreplace"))


def storable_headers(headers: Sequence[tuple[str, bytes | None]]) -> dict[str, Any]:
    """Headers as jsonb: clean UTF-8 as text, a missing value as null, anything else (U+0000,
    invalid UTF-8) as {"base64": ...} so nothing is lost or refused."""
    stored: dict[str, Any] = {}
    for name, value in headers:
        key = storable_text(name)
        if value is None:
            stored[key] = None
            continue
        try:
            text = value.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is None or "\x00" in text:
            stored[key] = {"base64": base64.b64encode(value).decode("ascii")}
        else:
            stored[key] = text
    return stored


def kafka_headers(stored: dict[str, Any]) -> list[tuple[str, bytes | None]]:
    """The headers `storable_headers` stored, as the message carried them."""
    restored: list[tuple[str, bytes | None]] = []
    for name, value in stored.items():
        if value is None:
            restored.append((name, None))
        elif isinstance(value, dict):
            restored.append((name, base64.b64decode(value["base64"])))
        else:
            restored.append((name, str(value).encode("utf-8")))
    return restored


def dead_letters_query(*, consumer: str | None, redriven: bool | None) -> Select[Any]:
    """The parked messages, filtered: every column but the message's value, and its size."""
    columns = [c for c in dead_letters.c if c.name != "value"]
    query = select(*columns, func.octet_length(dead_letters.c.value).label("value_bytes"))
    return filtered(query, equal(dead_letters.c.consumer, consumer), _redriven(redriven))


def _redriven(wanted: bool | None) -> ColumnElement[bool] | None:
    """The filter on whether a dead letter was republished, or None (no filter)."""
    if wanted is None:
        return None
    column = dead_letters.c.redriven_at
    return column.is_not(None) if wanted else column.is_(None)


async def list_dead_letters(
    session: AsyncSession, paging: Paging, *, consumer: str | None, redriven: bool | None
) -> tuple[Sequence[Row[Any]], int]:
    """A page of parked messages, the latest first."""
    query = dead_letters_query(consumer=consumer, redriven=redriven)
    return await fetch_page(session, query, paging, dead_letters.c.id.desc())


async def lock_dead_letter(session: AsyncSession, letter_id: int) -> Row[Any] | None:
    """The parked message, value included, and how long ago it was parked (`parked_for`, by
    the database's clock, which stamped it), locked until the transaction ends (one redrive at
    a time)."""
    parked_for = (func.now() - dead_letters.c.created_at).label("parked_for")
    query = select(dead_letters, parked_for).where(dead_letters.c.id == letter_id).with_for_update()
    row: Row[Any] | None = (await session.execute(query)).one_or_none()
    return row


async def mark_redriven(
    session: AsyncSession, letter_id: int, *, at: datetime, by: str | None
) -> Row[Any]:
    """Records the redrive; the row as the list shows it."""
    await session.execute(
        update(dead_letters)
        .where(dead_letters.c.id == letter_id)
        .values(redriven_at=at, redriven_by=by)
    )
    return await dead_letter_view(session, letter_id)


async def dead_letter_view(session: AsyncSession, letter_id: int) -> Row[Any]:
    """One parked message as the list shows it."""
    query = dead_letters_query(consumer=None, redriven=None).where(dead_letters.c.id == letter_id)
    row: Row[Any] = (await session.execute(query)).one()
    return row


async def count_waiting(session: AsyncSession, consumer: str) -> int:
    """The consumer's parked messages not yet republished."""
    query = select(func.count()).where(
        dead_letters.c.consumer == consumer, dead_letters.c.redriven_at.is_(None)
    )
    return int((await session.execute(query)).scalar_one())
