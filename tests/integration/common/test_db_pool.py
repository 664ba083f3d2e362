"""The connection pool: without pre-ping a connection the server dropped is replaced unseen;
parameters stay out of errors."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.common.db import make_engine


async def test_a_connection_the_server_terminated_is_replaced_at_checkout(
    engine: AsyncEngine,
) -> None:
    pooled = make_engine(engine.url.render_as_string(hide_password=False), pool_size=1)
    try:
        async with pooled.connect() as conn:
            first_pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with engine.connect() as admin:
            killed = (
                await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first_pid})
            ).scalar_one()
        assert killed
        await asyncio.sleep(0.2)  # the driver reads the server's EOF on its socket
        async with pooled.connect() as conn:
            second_pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert second_pid != first_pid
    finally:
        await pooled.dispose()


async def test_a_failed_statement_does_not_carry_its_parameters_into_the_error(
    engine: AsyncEngine,
) -> None:
    secret = "上海市浦东新区世纪大道100号"
    async with engine.connect() as conn:
        with pytest.raises(DBAPIError) as failed:
            await conn.execute(text("SELECT 1 / 0 WHERE :address <> ''"), {"address": secret})
    assert secret not in str(failed.value)
    assert "parameters hidden" in str(failed.value)
