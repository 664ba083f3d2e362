"""The hand-written migration creates exactly what tables.py declares."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.aftersales.tables import metadata


def _ours(name: str | None, type_: str, parent_names: object) -> bool:
    # the kernel's tables (outbox, inbox, ...) share the database; they have their own test
    return type_ != "table" or name in metadata.tables


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "compare_server_default": True, "include_name": _ours},
    )
    return list(compare_metadata(context, metadata))


async def test_migration_matches_the_table_definitions(aftersales_engine: AsyncEngine) -> None:
    async with aftersales_engine.connect() as conn:
        assert await conn.run_sync(_diff) == []
