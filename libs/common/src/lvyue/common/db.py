"""Engine and session factory: async SQLAlchemy 2 over asyncpg."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SessionFactory = async_sessionmaker[AsyncSession]


def asyncpg_url(url: str) -> str:
    """Accepts postgres://, postgresql:// or postgresql+asyncpg:// and returns the asyncpg form."""
    if not url:
        raise ValueError("DATABASE_URL is empty")
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ValueError(f"DATABASE_URL is not a database URL: {exc}") from None
    if parsed.get_backend_name() not in {"postgres", "postgresql"}:
        raise ValueError(
            f"DATABASE_URL must point at PostgreSQL, got {parsed.get_backend_name()!r}"
        )
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def with_database(url: str, database: str) -> str:
    """The same server, another database: services each own one."""
    return make_url(asyncpg_url(url)).set(database=database).render_as_string(hide_password=False)


def make_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10) -> AsyncEngine:
    return create_async_engine(
        asyncpg_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
    )


def make_session_factory(engine: AsyncEngine) -> SessionFactory:
    # expire_on_commit=False: objects stay readable after the unit of work commits.
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def ensure_database(url: str, *, template: str | None = None) -> bool:
    """Creates the URL's database on its server if missing; True if it was created."""
    import asyncpg  # the driver's own API: CREATE DATABASE cannot run inside a transaction

    target = make_url(asyncpg_url(url))
    name = target.database
    if not name:
        raise ValueError(f"no database name in {target.render_as_string()}")
    admin = target.set(drivername="postgresql", database="postgres")
    conn = await asyncpg.connect(admin.render_as_string(hide_password=False))
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return False
        quoted = '"' + name.replace('"', '""') + '"'
        clause = f' TEMPLATE "{template}"' if template else ""
        try:
            await conn.execute(f"CREATE DATABASE {quoted}{clause}")
        except asyncpg.DuplicateDatabaseError:
            return False  # created by a concurrent starter
        return True
    finally:
        await conn.close()
