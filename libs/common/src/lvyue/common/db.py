"""Engine and session factory: async SQLAlchemy 2 over asyncpg."""

from __future__ import annotations

import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson
from prometheus_client import Counter
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
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


def libpq_url(url: str) -> str:
    """Any lvyue database URL in the form asyncpg.connect takes (a connection of its own)."""
    return (
        make_url(asyncpg_url(url))
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )


def with_database(url: str, database: str) -> str:
    """The same server, another database: services each own one."""
    return make_url(asyncpg_url(url)).set(database=database).render_as_string(hide_password=False)


STATEMENTS = Counter(
    "lvyue_db_statements_total",
    "SQL statements sent (an executemany of many rows counts once: one round trip)",
    ["kind"],
)


def make_engine(
    url: str, *, pool_size: int = 10, max_overflow: int = 10, pool_recycle_s: int = 1800
) -> AsyncEngine:
    # No pool_pre_ping: it costs BEGIN, a ping and ROLLBACK on every checkout. A connection
    # the server closed is noticed by asyncpg as soon as its socket reads EOF; the checkout
    # check below then hands out a fresh one instead, without a round trip.
    engine = create_async_engine(
        asyncpg_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=pool_recycle_s,
        # A failed statement's error carries its parameters (a buyer's phone, an address)
        # into tracebacks and logs otherwise.
        hide_parameters=True,
        json_serializer=json_text,
        json_deserializer=orjson.loads,
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed_connection)
    event.listen(engine.sync_engine, "before_cursor_execute", _count_statement)
    return engine


def json_text(value: Any) -> str:
    """A JSONB column's value as JSON text. orjson (read with orjson.loads too): an order's
    lines and receiver, written and read back on every hot path, take 0.9 µs to write and
    1.4 µs to read where the standard library takes 5.8 and 4.3. Keys that are not strings
    become strings, as json.dumps makes them."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _count_statement(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    # The bench divides this by orders: SQL statements per order per service, counted by the
    # client because the embedded PostgreSQL has no pg_stat_statements.
    STATEMENTS.labels("executemany" if executemany else "execute").inc()


@asynccontextmanager
async def driver_connection(sessions: SessionFactory) -> AsyncIterator[asyncpg.Connection]:
    """asyncpg's own connection, from the pool behind `sessions`, for a hot path that runs its
    own transaction and statements (the outbox relay). SQLAlchemy's session, transaction and
    statement layers cost 0.9-1.1 ms of CPU for a transaction of one statement where asyncpg's
    own cost 0.32 ms, and 0.29 ms per statement where asyncpg's cost 0.11 (this machine,
    2026-12-06). A caller counts its statements (`STATEMENTS`) and finishes its transaction
    before leaving; JSON columns read as text (SQLAlchemy's codec on the connection)."""
    engine: AsyncEngine = sessions.kw["bind"]
    async with engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        if driver is None:  # only a connection the pool has already invalidated has none
            raise DisconnectionError("the pooled connection has no asyncpg connection")
        yield driver


def _refuse_closed_connection(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """Pool checkout hook: a connection whose socket is closed is replaced (the pool retries)."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("connection closed by the server")


# A server that is gone, refuses, restarts or is full, as SQLAlchemy and asyncpg say it.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,  # no pooled connection came free in time
    asyncpg.PostgresConnectionError,  # connection lost, refused, does not exist
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting up, crash recovery
    asyncpg.TooManyConnectionsError,
)


def is_database_unavailable(error: BaseException) -> bool:
    """True if `error` (or what caused it) says PostgreSQL cannot be reached now, not that a
    statement was wrong: a request failing so is worth retrying later (503), not a bug (500)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, _UNAVAILABLE):
            return True
        if isinstance(current, asyncpg.InterfaceError) and "closed" in str(current):
            return True
        # A refused or reset socket arrives unwrapped from the driver's connect: only an OSError
        # raised inside the driver or the pool is the database's, not any other socket's.
        if isinstance(current, OSError) and _raised_in_driver(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _raised_in_driver(error: BaseException) -> bool:
    return any(
        str(frame.f_globals.get("__name__", "")).startswith(("asyncpg", "sqlalchemy"))
        for frame, _ in traceback.walk_tb(error.__traceback__)
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
