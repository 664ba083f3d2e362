"""Work per order from the services' own counters on /metrics, read before and after a phase:
Kafka messages the outbox relays produced, messages the consumers handled, polls handled as
one batch (one database transaction and one offset commit each), and SQL statements sent.

Kafka is counted in messages, not requests: the broker would count requests, but Tansu exports
its metrics only over OTLP, which the bench does not collect. SQL statements are counted by the
services' engines because the embedded PostgreSQL has no pg_stat_statements.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import httpx
from prometheus_client.parser import text_string_to_metric_families

SAMPLES = {
    "lvyue_outbox_published_total": "produced",
    "lvyue_consumer_messages_total": "consumed",
    "lvyue_consumer_batch_messages_count": "batches",
    "lvyue_db_statements_total": "sql_statements",
}

Counts = dict[str, dict[str, float]]  # service -> counter -> value


def parse(text: str) -> dict[str, float]:
    """The counters above, summed over their labels, from one exposition."""
    counts: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (name := SAMPLES.get(sample.name)) is not None:
                counts[name] = counts.get(name, 0.0) + sample.value
    return counts


async def snapshot(services: Mapping[str, str], *, timeout_s: float = 5.0) -> Counts:
    """Every service's counters; a service that does not answer is left out."""
    async with httpx.AsyncClient(timeout=timeout_s) as client:

        async def one(url: str) -> dict[str, float] | None:
            try:
                return parse((await client.get(f"{url}/metrics")).text)
            except (httpx.HTTPError, ValueError):
                return None

        read = await asyncio.gather(*(one(url) for url in services.values()))
    return {name: counts for name, counts in zip(services, read, strict=True) if counts is not None}


def per_order(before: Counts, after: Counts, orders: int) -> dict[str, dict[str, float]]:
    """Each counter's growth per order, per service read both times (one missed before would
    count from zero), and how many messages a consumer batch held."""
    if orders <= 0:
        return {}
    result: dict[str, dict[str, float]] = {}
    for service in sorted(before.keys() & after.keys()):
        grown = {
            name: max(0.0, value - before[service].get(name, 0.0))
            for name, value in after[service].items()
        }
        row = {name: round(value / orders, 3) for name, value in grown.items()}
        if grown.get("batches"):
            row["messages_per_batch"] = round(grown.get("consumed", 0.0) / grown["batches"], 1)
        result[service] = row
    return result


def sql_statements(per_service: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """SQL statements per order, by service, out of per_order's rows."""
    return {
        service: row["sql_statements"]
        for service, row in per_service.items()
        if "sql_statements" in row
    }


def kafka(per_service: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """per_order's rows without the SQL statements: Kafka work alone."""
    return {
        service: {name: value for name, value in row.items() if name != "sql_statements"}
        for service, row in per_service.items()
    }
