"""Duplicate effects after the load: each pipeline event is staged once per order by the
service that makes it, whatever the replicas and redeliveries. Counted in every service
database's outbox, as (topic, order) pairs staged more than once."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from lvyue.common.db import libpq_url, with_database

DATABASES = (
    "SELECT datname FROM pg_database WHERE datname LIKE 'lvyue\\_%' "
    "AND datname NOT LIKE 'lvyue\\_bench\\_%'"
)
TWICE = """
SELECT topic, count(*) AS orders FROM (
    SELECT topic, key FROM outbox WHERE topic = ANY($1::text[])
    GROUP BY topic, key HAVING count(*) > 1
) AS twice GROUP BY topic
"""


async def staged_twice(server_url: str, topics: Sequence[str]) -> dict[str, int]:
    """Per pipeline topic, how many orders have its event staged more than once (0 = none)."""
    found = dict.fromkeys(topics, 0)
    admin = await asyncpg.connect(libpq_url(with_database(server_url, "postgres")))
    try:
        names = [row["datname"] for row in await admin.fetch(DATABASES)]
    finally:
        await admin.close()
    for name in names:
        conn = await asyncpg.connect(libpq_url(with_database(server_url, name)))
        try:
            if await conn.fetchval("SELECT to_regclass('outbox') IS NOT NULL"):
                for row in await conn.fetch(TWICE, list(topics)):
                    found[row["topic"]] += row["orders"]
        finally:
            await conn.close()
    return found
