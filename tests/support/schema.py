"""Compare a migrated database with table definitions (Alembic's autogenerate comparison)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, MetaData


def schema_diff(connection: Connection, metadata: MetaData) -> list[Any]:
    """What differs between the database and `metadata`, for the tables `metadata` declares
    (another metadata's tables sharing the database are compared on their own)."""

    def ours(name: str | None, type_: str, parent_names: object) -> bool:
        bookkeeping = (name or "").startswith("alembic_version")
        return type_ != "table" or name in metadata.tables or bookkeeping

    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "compare_server_default": True, "include_name": ours},
    )
    return [d for d in compare_metadata(context, metadata) if "alembic_version" not in str(d)]
