"""Test infrastructure: a real PostgreSQL (pgserver) and a real Kafka-protocol broker (Tansu),
started once per session; each test gets its own database and its own topic prefix."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.aftersales.migrations import MIGRATIONS as AFTERSALES_MIGRATIONS
from lvyue.cli.embedded import BROKER_FETCH_MAX_WAIT_MS, EmbeddedBroker, EmbeddedPostgres
from lvyue.common.db import ensure_database, make_engine, with_database
from lvyue.common.migrate import MigrationSet, migrate
from lvyue.common.settings import Environment
from lvyue.common.webhooks import relaying
from lvyue.fulfilment.migrations import MIGRATIONS as FULFILMENT_MIGRATIONS
from lvyue.inventory.migrations import MIGRATIONS as INVENTORY_MIGRATIONS
from lvyue.order_review.migrations import MIGRATIONS as ORDER_REVIEW_MIGRATIONS
from lvyue.order_review.settings import OrderReviewSettings
from tests.support.kafka import drop_topics
from tests.support.webhooks import RELAYED

DATA = Path(__file__).parent / "data"

# Every service the suite starts, in-process or as a process, fetches from the embedded broker,
# which holds each fetch for the whole wait: the wait `lvyue run` sets there.
os.environ.setdefault("LVYUE_CONSUMER_FETCH_MAX_WAIT_MS", str(BROKER_FETCH_MAX_WAIT_MS))

WEBHOOK_SECRET = "test-webhook-secret"
OPS_TOKEN = "test-ops-token"


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    pg = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data")
    pg.start()
    yield pg
    pg.stop()


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    b = EmbeddedBroker(log_path=tmp_path_factory.mktemp("broker") / "tansu.log")
    b.start()
    yield b
    b.stop()


class Databases:
    """Fresh databases per test, copied from a template migrated once per session."""

    def __init__(self, postgres: EmbeddedPostgres) -> None:
        self._postgres = postgres
        self._templates: dict[str, str] = {}

    async def create(self, migrations: MigrationSet) -> str:
        template = self._templates.get(migrations.package)
        if template is None:
            template = "tmpl_" + migrations.package.split(".")[1]
            url = self._postgres.url(template)
            await ensure_database(url)
            await migrate(url, migrations)
            self._templates[migrations.package] = template
        url = self._postgres.url(f"t_{uuid.uuid4().hex[:12]}")
        await ensure_database(url, template=template)
        return url


@pytest.fixture(scope="session")
def databases(postgres: EmbeddedPostgres) -> Databases:
    return Databases(postgres)


@pytest.fixture
async def order_review_db(databases: Databases) -> str:
    return await databases.create(ORDER_REVIEW_MIGRATIONS)


@pytest.fixture
async def inventory_db(databases: Databases) -> str:
    return await databases.create(INVENTORY_MIGRATIONS)


@pytest.fixture
async def fulfilment_db(databases: Databases) -> str:
    return await databases.create(FULFILMENT_MIGRATIONS)


@pytest.fixture
async def aftersales_db(databases: Databases) -> str:
    return await databases.create(AFTERSALES_MIGRATIONS)


@pytest.fixture
async def engine(order_review_db: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(order_review_db, pool_size=2, max_overflow=2)
    yield eng
    await eng.dispose()


@pytest.fixture
async def topic_prefix(broker: EmbeddedBroker) -> AsyncIterator[str]:
    """The test's own topics on the shared broker, deleted after it (see drop_topics)."""
    prefix = f"t{uuid.uuid4().hex[:8]}."
    yield prefix
    await drop_topics(broker.bootstrap_servers, prefix)


@pytest.fixture
def make_settings(
    order_review_db: str, broker: EmbeddedBroker, topic_prefix: str
) -> Callable[..., OrderReviewSettings]:
    def build(**overrides: Any) -> OrderReviewSettings:
        values: dict[str, Any] = {
            "env": Environment.TEST,
            "database_url": order_review_db,
            "kafka_bootstrap_servers": broker.bootstrap_servers,
            "kafka_idempotent_producer": False,
            "topic_prefix": topic_prefix,
            "topic_partitions": 2,
            "db_pool_size": 5,
            "outbox_poll_interval_s": 0.02,
            "deadline_scan_interval_s": 0.2,
            "deadline_gauge_interval_s": 0.2,
            "consumer_retry_initial_s": 0.01,
            "consumer_session_timeout_ms": 2000,
            "consumer_retry_max_s": 0.05,
            "webhook_secrets": {
                "shopify": {"*": WEBHOOK_SECRET},
                "lvyue": relaying(WEBHOOK_SECRET, RELAYED),
            },
            "api_tokens": {"ops": [OPS_TOKEN]},
        }
        values.update(overrides)
        return OrderReviewSettings.model_validate(values)

    return build


def database_url_on(postgres: EmbeddedPostgres, name: str) -> str:
    return with_database(postgres.url(), name)
