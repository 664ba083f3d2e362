"""Alembic migrations, run programmatically: the kernel's tables first, then the service's own."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from importlib.resources import files

import structlog
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from lvyue.common.db import asyncpg_url

log = structlog.get_logger(__name__)

KERNEL_VERSION_TABLE = "alembic_version_kernel"
MIGRATION_LOCK = 7240001  # the advisory lock one migrating process holds
LOCK_RETRY_S = 0.2


@dataclass(frozen=True)
class MigrationSet:
    """One Alembic script directory with its own version table."""

    package: str  # e.g. "lvyue.order_review.migrations"
    version_table: str

    def config(self) -> Config:
        cfg = Config()
        cfg.set_main_option("script_location", str(files(self.package)))
        cfg.set_main_option("version_table", self.version_table)
        return cfg


KERNEL_MIGRATIONS = MigrationSet("lvyue.common.migrations", KERNEL_VERSION_TABLE)


def run_env(target_metadata: MetaData) -> None:
    """Body of every env.py: migrate over the connection that `migrate()` hands in."""
    config = context.config
    connection: Connection | None = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations with `lvyue migrate` (lvyue.common.migrate.migrate)")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=config.get_main_option("version_table") or "alembic_version",
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def migrate(database_url: str, service_migrations: MigrationSet) -> None:
    """Upgrades a service database to head: kernel tables, then the service's tables."""
    engine = create_async_engine(asyncpg_url(database_url))
    try:
        async with engine.connect() as conn:
            await _take_migration_lock(conn)
            try:
                for migration_set in (KERNEL_MIGRATIONS, service_migrations):
                    await conn.run_sync(_upgrade, migration_set.config())
                    await conn.commit()
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
                await conn.commit()
    finally:
        await engine.dispose()


async def _take_migration_lock(conn: AsyncConnection) -> None:
    """Several processes may start at once: one migrates, the others wait for it. They wait by
    asking again, not in a statement blocked on the lock: such a statement holds a snapshot,
    which CREATE INDEX CONCURRENTLY in the migrating process would wait for in turn."""
    loop = asyncio.get_running_loop()
    started = logged = loop.time()
    while True:
        taken = await conn.scalar(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": MIGRATION_LOCK}
        )
        await conn.commit()  # the lock is the session's; Alembic begins each migration
        if taken:
            return
        if loop.time() - logged >= 10:
            logged = loop.time()
            log.info("migration_waiting", waited_s=round(logged - started))
        await asyncio.sleep(LOCK_RETRY_S)


def _upgrade(connection: Connection, cfg: Config) -> None:
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")


def create_index_concurrently(
    name: str, table: str, columns: list[str], *, unique: bool = False, where: str | None = None
) -> None:
    """In a migration: builds an index without blocking writes to its table (CREATE INDEX
    CONCURRENTLY, outside the migration's transaction), as a table in production may be large.

    A build that was interrupted leaves an invalid index behind, so one of that name is dropped
    first: running the migration again after a failure builds it anew."""
    with op.get_context().autocommit_block():
        op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
        op.create_index(
            name,
            table,
            columns,
            unique=unique,
            postgresql_concurrently=True,
            postgresql_where=text(where) if where is not None else None,
        )


def drop_index_concurrently(name: str, table: str) -> None:
    """In a migration: drops an index without blocking its table's readers and writers."""
    with op.get_context().autocommit_block():
        op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
