"""Scratch databases for the ceiling and scanner benches, on the server under test."""

from __future__ import annotations

import asyncpg
from sqlalchemy.engine import make_url

from lvyue.common.db import ensure_database, libpq_url
from lvyue.common.migrate import MigrationSet, migrate


async def drop_database(url: str) -> None:
    name = make_url(url).database
    if not name or not name.startswith("lvyue_bench_"):
        raise ValueError(f"refusing to drop {name!r}: only lvyue_bench_* are scratch databases")
    admin = await asyncpg.connect(
        libpq_url(make_url(url).set(database="postgres").render_as_string(hide_password=False))
    )
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def fresh_database(url: str, migrations: MigrationSet) -> None:
    """Drops and recreates the scratch database, then runs the migrations on it."""
    await drop_database(url)
    await ensure_database(url)
    await migrate(url, migrations)
