"""The hand-written migrations create exactly what tables.py declares."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from lvyue.common.db import make_engine
from lvyue.fulfilment.tables import metadata


def _ours(name: str | None, type_: str, parent_names: object) -> bool:
    # the kernel's tables (outbox, inbox, ...) share the database; they have their own test
    return type_ != "table" or name in metadata.tables


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "compare_server_default": True, "include_name": _ours},
    )
    return list(compare_metadata(context, metadata))


async def test_migration_matches_the_table_definitions(fulfilment_db: str) -> None:
    engine = make_engine(fulfilment_db, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        await engine.dispose()
