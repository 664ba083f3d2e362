"""Inventory fixtures: settings on a fresh inventory database, a producer, an engine."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.cli.embedded import EmbeddedBroker
from lvyue.common.db import make_engine
from lvyue.common.kafka import make_producer
from lvyue.inventory.settings import InventorySettings
from tests.support.inventory import inventory_settings


@pytest.fixture
def make_inventory_settings(
    inventory_db: str, broker: EmbeddedBroker, topic_prefix: str
) -> Callable[..., InventorySettings]:
    def build(**overrides: Any) -> InventorySettings:
        return inventory_settings(inventory_db, broker.bootstrap_servers, topic_prefix, **overrides)

    return build


@pytest.fixture
async def inventory_engine(inventory_db: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(inventory_db, pool_size=2, max_overflow=2)
    yield eng
    await eng.dispose()


@pytest.fixture
async def producer(broker: EmbeddedBroker) -> AsyncIterator[AIOKafkaProducer]:
    p = make_producer(broker.bootstrap_servers, idempotent=False)
    await p.start()
    yield p
    await p.stop()
