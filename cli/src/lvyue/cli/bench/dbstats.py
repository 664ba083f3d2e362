"""Database work per order: transactions and rows per service database, from pg_stat_database
read before and after a phase (backends publish their counts within about a second)."""

from __future__ import annotations

import asyncio

import asyncpg

from lvyue.common.db import libpq_url, with_database

COUNTERS = (
    "xact_commit", "xact_rollback", "tup_inserted", "tup_updated", "tup_deleted", "tup_fetched",
)  # fmt: skip
STATS = (
    f"SELECT datname, {', '.join(COUNTERS)} FROM pg_stat_database "
    "WHERE datname LIKE 'lvyue\\_%' AND datname NOT LIKE 'lvyue\\_bench\\_%'"
)
FLUSH_S = 1.5  # backends publish their statistics at most once a second

Counts = dict[str, dict[str, int]]  # database -> counter -> value


async def snapshot(server_url: str, *, settle: bool = False) -> Counts:
    """Every lvyue database's counters; `settle` first waits for backends to publish theirs."""
    if settle:
        await asyncio.sleep(FLUSH_S)
    conn = await asyncpg.connect(libpq_url(with_database(server_url, "postgres")))
    try:
        rows = await conn.fetch(STATS)
    finally:
        await conn.close()
    return {row["datname"]: {c: int(row[c]) for c in COUNTERS} for row in rows}
