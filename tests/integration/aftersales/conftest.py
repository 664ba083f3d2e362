"""Aftersales fixtures: settings on a fresh aftersales database, and the app on a moved clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from lvyue.aftersales.settings import AftersalesSettings
from lvyue.cli.embedded import EmbeddedBroker
from lvyue.common.clock import ManualClock
from lvyue.common.db import make_engine
from tests.support.aftersales import Aftersales, aftersales_settings, running


@pytest.fixture
def make_aftersales_settings(
    aftersales_db: str, broker: EmbeddedBroker, topic_prefix: str
) -> Callable[..., AftersalesSettings]:
    def build(**overrides: Any) -> AftersalesSettings:
        return aftersales_settings(
            aftersales_db, broker.bootstrap_servers, topic_prefix, **overrides
        )

    return build


@pytest.fixture
async def aftersales(
    make_aftersales_settings: Callable[..., AftersalesSettings],
) -> AsyncIterator[Aftersales]:
    async with running(make_aftersales_settings(), ManualClock(datetime.now(UTC))) as app:
        yield app


@pytest.fixture
async def aftersales_engine(aftersales_db: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(aftersales_db, pool_size=2, max_overflow=2)
    yield eng
    await eng.dispose()
