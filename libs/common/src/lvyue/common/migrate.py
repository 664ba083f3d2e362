"""Alembic migrations, run programmatically: the kernel's tables first, then the service's own."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.ext.asyncio import create_async_engine

from lvyue.common.db import asyncpg_url

KERNEL_VERSION_TABLE = "alembic_version_kernel"


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
            # Several processes may start at once: one migrates, the others wait for it.
            await conn.execute(text("SELECT pg_advisory_lock(7240001)"))
            try:
                for migration_set in (KERNEL_MIGRATIONS, service_migrations):
                    await conn.run_sync(_upgrade, migration_set.config())
                    await conn.commit()
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(7240001)"))
                await conn.commit()
    finally:
        await engine.dispose()


def _upgrade(connection: Connection, cfg: Config) -> None:
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")
