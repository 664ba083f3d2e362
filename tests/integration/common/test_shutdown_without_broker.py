"""A service's runtime stops within its shutdown timeout when the broker is gone: the relay,
the consumers and the producer give up instead of reconnecting, and what could not be
published stays in the outbox. A broker of its own, so stopping it disturbs no other test."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from lvyue.cli.embedded import EmbeddedBroker
from lvyue.common.bootstrap import start_kernel
from lvyue.common.consumer import Subscription
from lvyue.common.events import Envelope
from lvyue.common.tables import outbox
from lvyue.common.uow import UnitOfWork
from lvyue.order_review.settings import OrderReviewSettings
from tests.support.events import PING, Ping


async def _ignore(event: Envelope, uow: UnitOfWork) -> None:
    return None


async def test_stop_with_the_broker_gone_returns_within_the_shutdown_timeout(
    make_settings: Callable[..., OrderReviewSettings], tmp_path: Path
) -> None:
    broker = EmbeddedBroker(log_path=tmp_path / "tansu.log")
    broker.start()
    try:
        settings = make_settings(kafka_bootstrap_servers=broker.bootstrap_servers)
        kernel = await start_kernel(settings, subscriptions=[Subscription(PING, _ignore)])
        async with kernel.uow() as uow:
            await uow.emit(PING, Ping(n=1), subject="order-1")
            await uow.commit()
        await asyncio.sleep(1.0)  # published, consumed: every client is connected
    finally:
        broker.stop()
    async with kernel.uow() as uow:  # staged with the broker gone: the relay cannot publish it
        await uow.emit(PING, Ping(n=2), subject="order-2")
        await uow.commit()
    await asyncio.sleep(1.0)  # the relay, the consumer and the producer are retrying now

    started = time.monotonic()
    await kernel.stop()
    elapsed = time.monotonic() - started

    assert elapsed < 5.0, f"stop took {elapsed:.1f}s"
    async with kernel.engine.connect() as conn:  # disposed, not closed: reconnects for this
        unsent = select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
        assert (await conn.execute(unsent)).scalar_one() == 1  # kept for the next start
    await kernel.engine.dispose()
