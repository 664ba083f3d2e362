"""Migrations on a real PostgreSQL: processes starting together migrate once, and indexes are
built concurrently (writes go on), even after an interrupted build left an invalid one."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection

from lvyue.cli.embedded import EmbeddedPostgres
from lvyue.common.db import ensure_database, make_engine
from lvyue.common.migrate import KERNEL_MIGRATIONS, migrate
from lvyue.order_review.migrations import MIGRATIONS

INDEXES = ("ix_inbox_processed_at", "ix_webhook_deliveries_received_at")


async def _fresh(postgres: EmbeddedPostgres) -> str:
    url = postgres.url(f"m_{uuid.uuid4().hex[:12]}")
    await ensure_database(url)
    return url


async def _index(conn: AsyncConnection, name: str) -> tuple[bool, bool] | None:
    """(valid, unique) of the index, or None where there is none."""
    row = (
        await conn.execute(
            text(
                "SELECT i.indisvalid, i.indisunique FROM pg_index i"
                " JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = :name"
            ),
            {"name": name},
        )
    ).one_or_none()
    return None if row is None else (row.indisvalid, row.indisunique)


def _kernel_to(connection: Connection, revision: str) -> None:
    cfg = KERNEL_MIGRATIONS.config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


async def test_processes_starting_together_migrate_once_and_all_finish(
    postgres: EmbeddedPostgres,
) -> None:
    # The ones waiting must not hold a snapshot that the concurrent index builds wait for.
    url = await _fresh(postgres)
    await asyncio.wait_for(asyncio.gather(*(migrate(url, MIGRATIONS) for _ in range(3))), 120)
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            for name in INDEXES:
                assert await _index(conn, name) == (True, False)
            versions = await conn.execute(text("SELECT version_num FROM alembic_version"))
            assert [v for (v,) in versions] == [
                ScriptDirectory.from_config(MIGRATIONS.config()).get_current_head()
            ]
    finally:
        await engine.dispose()


async def test_an_invalid_index_left_by_an_interrupted_build_is_built_anew(
    postgres: EmbeddedPostgres,
) -> None:
    url = await _fresh(postgres)
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_kernel_to, "k0005")
            await conn.commit()
            await conn.execute(
                text(
                    "INSERT INTO inbox (consumer, event_id, processed_at)"
                    " VALUES ('c', 'e1', '2026-12-01'), ('c', 'e2', '2026-12-01')"
                )
            )
            await conn.commit()
            # A concurrent build that fails half way leaves its index behind, marked invalid.
            raw = await conn.execution_options(isolation_level="AUTOCOMMIT")
            failed = False
            try:
                await raw.execute(
                    text(
                        "CREATE UNIQUE INDEX CONCURRENTLY ix_inbox_processed_at"
                        " ON inbox (processed_at)"
                    )
                )
            except Exception:
                failed = True
            assert failed
            assert await _index(conn, "ix_inbox_processed_at") == (False, True)

        await migrate(url, MIGRATIONS)

        async with engine.connect() as conn:
            assert await _index(conn, "ix_inbox_processed_at") == (True, False)
            assert await conn.scalar(text("SELECT count(*) FROM inbox")) == 2
    finally:
        await engine.dispose()


async def test_unclosed_deadlines_left_beside_a_newer_one_are_closed_when_it_opened(
    postgres: EmbeddedPostgres,
) -> None:
    # Before k0007 a breached, unclosed deadline let its (sla, subject) open another one.
    url = await _fresh(postgres)
    engine = make_engine(url)
    insert = text(
        "INSERT INTO deadlines (id, sla, subject, state, opened_at, due_at, breached_at)"
        " VALUES (gen_random_uuid(), :sla, 'o-1', :state, :opened, :due, :breached)"
    )
    rows = [  # (sla, state, opened at, breached at): hours of 2026-12-01 UTC
        ("contact", "breached", 8, 10),
        ("contact", "breached", 11, 13),
        ("contact", "open", 14, None),
        ("review", "breached", 8, 10),
    ]
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_kernel_to, "k0006")
            await conn.commit()
            for sla, state, opened, breached in rows:
                values = {"sla": sla, "state": state, "opened": _at(opened), "due": _at(opened + 2)}
                await conn.execute(insert, values | {"breached": breached and _at(breached)})
            await conn.commit()

        await migrate(url, MIGRATIONS)

        async with engine.connect() as conn:
            assert await _index(conn, "uq_deadlines_unclosed_sla_subject") == (True, True)
            # kept for the previous release, still serving while migrations run
            assert await _index(conn, "uq_deadlines_open_sla_subject") == (True, True)
            found = await conn.execute(
                text(
                    "SELECT sla, state, to_char(closed_at AT TIME ZONE 'UTC', 'HH24:MI')"
                    " FROM deadlines ORDER BY sla, opened_at"
                )
            )
            assert [tuple(r) for r in found] == [
                ("contact", "breached", "11:00"),  # closed when the next one opened
                ("contact", "breached", "14:00"),
                ("contact", "open", None),
                ("review", "breached", None),  # alone: still outstanding
            ]
    finally:
        await engine.dispose()


def _at(hour: int) -> datetime:
    return datetime(2026, 12, 1, hour, tzinfo=UTC)
