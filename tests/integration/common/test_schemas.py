"""Every service's migrations (the kernel's, then its own) create exactly what the table
definitions declare: the kernel's tables.py and the service's tables.py, nothing more or less."""

from __future__ import annotations

import pytest
from sqlalchemy import MetaData

from lvyue.aftersales.migrations import MIGRATIONS as AFTERSALES
from lvyue.aftersales.tables import metadata as aftersales_tables
from lvyue.common.db import make_engine
from lvyue.common.migrate import MigrationSet
from lvyue.common.tables import kernel_metadata
from lvyue.fulfilment.migrations import MIGRATIONS as FULFILMENT
from lvyue.fulfilment.tables import metadata as fulfilment_tables
from lvyue.inventory.migrations import MIGRATIONS as INVENTORY
from lvyue.inventory.tables import metadata as inventory_tables
from lvyue.order_review.migrations import MIGRATIONS as ORDER_REVIEW
from lvyue.order_review.tables import metadata as order_review_tables
from tests.conftest import Databases
from tests.support.schema import schema_diff

SERVICES: dict[str, tuple[MigrationSet, MetaData]] = {
    "order-review": (ORDER_REVIEW, order_review_tables),
    "inventory": (INVENTORY, inventory_tables),
    "fulfilment": (FULFILMENT, fulfilment_tables),
    "aftersales": (AFTERSALES, aftersales_tables),
}


@pytest.mark.parametrize("service", list(SERVICES))
async def test_migrations_create_exactly_the_declared_tables(
    service: str, databases: Databases
) -> None:
    migrations, service_tables = SERVICES[service]
    engine = make_engine(await databases.create(migrations), pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: c.dialect.get_table_names(c)))
            for metadata in (kernel_metadata, service_tables):
                assert await conn.run_sync(schema_diff, metadata) == [], (service, metadata)
    finally:
        await engine.dispose()
    declared = set(kernel_metadata.tables) | set(service_tables.tables)
    # nothing the migrations create that no tables.py declares (Alembic's bookkeeping aside)
    assert {t for t in tables if not t.startswith("alembic_version")} == declared
