"""What hostile-input tests of the intake jobs need around them: the sandbox served over HTTP
(and WebSocket) on a loopback port, as a job's own client reaches it, and a real database
refusing chosen rows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.cli.embedded import free_port
from tests.support.polling import eventually

REFUSAL = "refused by the test"


@asynccontextmanager
async def on_loopback(app: Any) -> AsyncIterator[int]:
    """The ASGI app served on a loopback port (no lifespan) for the block; its port."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None)
    )
    serving = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: _started(server), bool, timeout_s=10)
        yield port
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 10)


async def _started(server: uvicorn.Server) -> bool:
    return server.started


async def refuse_rows(engine: AsyncEngine, table: str, when: str) -> None:
    """From now on the database itself refuses to insert or update the rows of `table` that
    `when` (SQL on NEW) holds for, raising REFUSAL: a failure the code did not foresee, as a
    constraint, a lock timeout or a bug would be. The test's database is its own."""
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE OR REPLACE FUNCTION refused_by_the_test() RETURNS trigger "
                f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$"
            )
        )
        await conn.execute(
            text(
                f"CREATE TRIGGER refused_by_the_test_{table} BEFORE INSERT OR UPDATE ON {table} "
                f"FOR EACH ROW WHEN ({when}) EXECUTE FUNCTION refused_by_the_test()"
            )
        )


async def accept_rows(engine: AsyncEngine, table: str) -> None:
    """refuse_rows undone for `table`."""
    async with engine.begin() as conn:
        await conn.execute(text(f"DROP TRIGGER refused_by_the_test_{table} ON {table}"))
